"""A checkpoint of other classes than the open images': loaded with a warning, GT matched by
class name where the names agree, no TP/FP where they do not."""

from __future__ import annotations

import numpy as np
import torch

from frcnn_core import Detections, FasterRCNN, cpu_config
from frcnn_core.evaluation.metrics import match_image
from frcnn_core.models.checkpoint import save_checkpoint
from frcnn_viewer.state.models import class_match, class_mismatch, untrained_config
from frcnn_viewer.state.results import image_result
from frcnn_viewer.state.sources import load_image

from .conftest import BOXES
from .fakes import memory_source


def detections(boxes, scores, labels) -> Detections:
    count = len(scores)
    return Detections(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), torch.tensor(scores), torch.tensor(labels),
                      torch.zeros(count, 3), torch.zeros(count, dtype=torch.int64), torch.zeros(count, 4))


def test_class_match_says_what_is_shared_unknown_and_foreign():
    match = class_match(cpu_config(3, ("red", "cow", "cat")), ("red", "blue"))
    assert match.unknown == ("blue",) and match.comparable
    assert match.foreign_labels().tolist() == [2, 3]
    assert "does not know blue" in match.describe() and "left out" in match.describe()
    disjoint = class_mismatch(cpu_config(2, ("cat", "dog")), ("red", "blue"))
    assert "does not know red, blue" in disjoint and "not marked true or false positives" in disjoint
    assert class_mismatch(untrained_config(("red", "blue", "cow")), ("red", "blue")) is None
    assert class_mismatch(cpu_config(2, ("cat", "dog")), ()) is None  # plain images fit any model


def test_gt_is_matched_by_name_where_names_agree():
    image = load_image(memory_source().entries[0])  # GT: a red square (BOXES[0]) and a blue bar (BOXES[1])
    config = cpu_config(2, ("cow", "red"))  # red is label 2 here; the model has no blue
    found = detections([BOXES[0], BOXES[1], [0, 0, 10, 10]], [0.9, 0.8, 0.7], [2, 2, 1])
    matching = image_result(image, found, config).matching
    # the red box is found; the blue GT is left out (not missed); the cow detection is not judged
    assert matching.true_positive.tolist() == [True, False, False]
    assert matching.false_positive(0.5).tolist() == [False, True, False]
    assert matching.ignored.tolist() == [False, False, True] and matching.missed(0.5) == []
    # the same as frcnn eval's matching on the GT of the classes both know
    reference = match_image(found.boxes.numpy()[:2], found.scores.numpy()[:2], [2, 2], [BOXES[0]], [2])
    assert matching.true_positive[:2].tolist() == reference.true_positive.tolist()
    assert image_result(image, found, cpu_config(2, ("cat", "dog"))).matching is None  # nothing agrees


def test_a_checkpoint_of_other_classes_loads_with_a_warning(window, tmp_path, coco_file):
    window.open_paths([coco_file])
    torch.manual_seed(0)
    other = save_checkpoint(tmp_path / "other.pt", FasterRCNN(cpu_config(3, ("cat", "dog", "cow"))))
    assert window.load_checkpoint(other)
    warnings = [m.text for m in window.document.messages if m.level == "warning"]
    assert any("does not know red, blue" in text and "not marked true or false positives" in text for text in warnings)
    assert not [m for m in window.document.messages if m.level == "error"]
    assert window.document.model.checkpoint == str(other) and window.document.trace is not None
    assert window.document.matching is None  # no TP/FP colouring
    torch.manual_seed(0)
    partial = save_checkpoint(tmp_path / "partial.pt", FasterRCNN(cpu_config(2, ("blue", "cow"))))
    assert window.load_checkpoint(partial)
    assert any("does not know red" in m.text for m in window.document.messages if m.level == "warning")
    matching = window.document.matching
    assert matching is not None
    red = np.array(window.document.image.gt_names) == "red"
    assert not (set(matching.missed(0.0)) & set(np.flatnonzero(red).tolist()))  # red GT is never "missed"
