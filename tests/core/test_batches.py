"""Training batches: the plain source and the prefetching one draw the same batches and resume alike."""

import pytest
import torch

from frcnn_core.data.errors import DatasetError
from frcnn_core.train.batches import BatchSource, PrefetchingBatchSource


class NumberedImages:
    """Ten 8x8 images whose pixels hold their index; image 3 cannot be read."""

    class_names = ("thing",)

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 3:
            raise DatasetError("image 3: truncated file")
        image = torch.arange(3 * 8 * 8, dtype=torch.float32).reshape(3, 8, 8) + 1000 * i
        target = {"boxes": torch.tensor([[1.0, 1.0, 4.0, 6.0], [2.0, 2.0, 3.0, 3.0]]), "labels": torch.tensor([1, 1]), "difficult": torch.tensor([False, True])}
        return image, target


def source():
    return BatchSource(NumberedImages(), batch_size=3, flip=True, seed=5)


def assert_same(a, b):
    assert a.indices == b.indices
    for x, y in zip(a.images, b.images):
        torch.testing.assert_close(x, y)
    for x, y in zip(a.targets, b.targets):
        torch.testing.assert_close(x["boxes"], y["boxes"])
        torch.testing.assert_close(x["labels"], y["labels"])


def test_batches_are_seeded_skip_unreadable_images_and_drop_difficult_boxes():
    assert_same(source().next(), source().next())
    plain = source()
    drawn = [plain.next() for _ in range(8)]
    assert all(3 not in b.indices and len(b.indices) == 3 for b in drawn)
    assert plain.unreadable == {3}
    assert all(t["boxes"].shape == (1, 4) for b in drawn for t in b.targets)
    flipped = [t["boxes"][0, 0].item() for b in drawn for t in b.targets]
    assert {1.0, 4.0} == set(flipped)  # x1 of the box, and of its mirror in the 8-px image


def test_prefetching_draws_the_same_batches():
    plain, ahead = source(), PrefetchingBatchSource(source())
    for _ in range(8):
        assert_same(ahead.next(), plain.next())


def test_prefetching_state_is_the_position_of_the_next_batch():
    plain, ahead = source(), PrefetchingBatchSource(source())
    for _ in range(4):
        plain.next(), ahead.next()
    state = ahead.state_dict()
    assert state["stream"] == plain.stream.state_dict()
    assert torch.equal(state["flip"], plain.flip_generator.get_state())

    resumed = PrefetchingBatchSource(source())
    resumed.next()  # a batch already in preparation is dropped by the load
    resumed.load_state_dict(state)
    for _ in range(5):
        assert_same(resumed.next(), plain.next())


def test_a_set_with_no_readable_image_fails_clearly():
    class Broken(NumberedImages):
        def __getitem__(self, i):
            raise DatasetError(f"image {i}: missing")

    with pytest.raises(DatasetError, match="no image of the dataset could be read"):
        PrefetchingBatchSource(BatchSource(Broken(), 2, False, 0)).next()
