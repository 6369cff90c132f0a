"""Box coding and IoU against torchvision."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchvision.ops import box_iou

from frcnn_core import decode_boxes, encode_boxes, pairwise_iou

coord = st.floats(-500, 500, allow_nan=False)
# within the decode clamp: no box more than 62.5x its reference
size = st.floats(5.0, 300.0)
box = st.tuples(coord, coord, size, size).map(lambda b: [b[0], b[1], b[0] + b[2], b[1] + b[3]])
weights = st.sampled_from([(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)])


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(box, box), min_size=1, max_size=20), w=weights)
def test_encode_decode_round_trip(pairs, w):
    ref = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    tgt = torch.tensor([p[1] for p in pairs], dtype=torch.float64)
    deltas = encode_boxes(ref, tgt, w)
    torch.testing.assert_close(decode_boxes(ref, deltas, w), tgt, atol=1e-6, rtol=1e-6)


def test_known_deltas():
    ref = torch.tensor([[0.0, 0.0, 10.0, 20.0]])
    tgt = torch.tensor([[5.0, 0.0, 25.0, 20.0]])
    torch.testing.assert_close(encode_boxes(ref, tgt), torch.tensor([[1.0, 0.0, 0.6931472, 0.0]]))


def test_iou_equals_torchvision():
    g = torch.Generator().manual_seed(0)
    a = torch.rand(50, 2, generator=g) * 100
    a = torch.cat([a, a + torch.rand(50, 2, generator=g) * 50 + 1], 1)
    b = torch.rand(30, 2, generator=g) * 100
    b = torch.cat([b, b + torch.rand(30, 2, generator=g) * 50 + 1], 1)
    torch.testing.assert_close(pairwise_iou(a, b), box_iou(a, b))


def test_degenerate_boxes_never_nan():
    a = torch.tensor([[5.0, 5.0, 5.0, 5.0], [0.0, 0.0, 10.0, 10.0]])
    iou = pairwise_iou(a, a)
    assert torch.isfinite(iou).all()
    assert iou[0, 0] == 0
    deltas = encode_boxes(torch.tensor([[0.0, 0.0, 16.0, 16.0]]), torch.tensor([[3.0, 3.0, 3.0, 9.0]]))
    assert torch.isfinite(deltas).all()


def test_decode_clamps_huge_scale():
    out = decode_boxes(torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([[0.0, 0.0, 100.0, 100.0]]))
    assert torch.isfinite(out).all()


def test_coding_equals_torchvision_box_coder():
    from torchvision.models.detection._utils import BoxCoder

    g = torch.Generator().manual_seed(1)
    ref = torch.rand(300, 2, generator=g) * 400
    ref = torch.cat([ref, ref + torch.rand(300, 2, generator=g) * 200 + 2], 1)
    tgt = ref + torch.randn(300, 4, generator=g) * 10
    tgt[:, 2:] = torch.maximum(tgt[:, 2:], tgt[:, :2] + 1)
    deltas = torch.randn(300, 4 * 3, generator=g)
    for w in [(1.0, 1.0, 1.0, 1.0), (10.0, 10.0, 5.0, 5.0)]:
        coder = BoxCoder(w)
        torch.testing.assert_close(encode_boxes(ref, tgt, w), coder.encode_single(tgt, ref))
        torch.testing.assert_close(decode_boxes(ref, deltas, w), coder.decode_single(deltas, ref))
