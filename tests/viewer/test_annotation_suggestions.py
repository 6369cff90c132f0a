"""The Qt-free parts of labelling with the model: suggestions, edit counting, uncertainty,
the labelling order, classes.txt and the retraining keywords."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.ops import box_iou

from frcnn_core import Detections, FasterRCNN, cpu_config
from frcnn_core.annotations import BoxAnnotation, ImageAnnotation, write_voc_xml
from frcnn_viewer.annotation.model.class_file import CLASS_FILE, ClassFileError, read_class_file, write_class_file
from frcnn_viewer.annotation.model.files import AnnotationFiles, open_annotation_sources
from frcnn_viewer.annotation.model.retrain import MIN_LABELLED, RunSoFar, retrain_keywords
from frcnn_viewer.annotation.model.suggestions import SuggestionSet, covered, missed_notes, suggestion_note
from frcnn_viewer.state.document import Document
from frcnn_viewer.state.results import ImageResult, detection_uncertainty
from frcnn_viewer.state.sources import entries_of
from frcnn_viewer.state.training.options import TrainingOptions, open_training_data, open_validation_data

from .conftest import BOXES, draw_image
from .fakes import MemoryDataset, memory_source

SQUARE = [0.0, 0.0, 10.0, 10.0]


def test_covered_is_same_class_iou_at_least_half_inclusive():
    boxes = np.array([[0, 0, 10, 5], [0, 0, 10, 4.9], [0, 0, 10, 5]], dtype=np.float64)
    names = ["cat", "cat", "dog"]
    iou = box_iou(torch.tensor(boxes), torch.tensor([SQUARE], dtype=torch.float64))[:, 0]
    assert iou[0] == pytest.approx(0.5) and iou[1] < 0.5  # the reference: torchvision
    np.testing.assert_array_equal(covered(boxes, names, np.array([SQUARE]), ["cat"]), [True, False, False])
    np.testing.assert_array_equal(covered(boxes, names, np.zeros((0, 4)), []), [False, False, False])


def test_shown_filters_by_score_gt_overlap_and_dismissals_best_first():
    suggestions = SuggestionSet(min_score=0.5)
    suggestions.set_detections(np.array([[0, 0, 10, 10], [20, 20, 40, 40], [50, 50, 60, 60], [70, 70, 90, 90]]),
                               ["cat", "cat", "dog", "dog"], np.array([0.6, 0.9, 0.4, 0.7]))
    assert suggestions.shown(np.zeros((0, 4)), []).tolist() == [1, 3, 0]  # 0.4 is below the slider
    assert suggestions.shown(np.zeros((0, 4)), [], min_score=0.3).tolist() == [1, 3, 0, 2]
    gt = np.array([[21, 21, 40, 40], [70, 70, 90, 90]])
    assert suggestions.shown(gt, ["cat", "cat"]).tolist() == [3, 0]  # a cat box hides the cat, not the dog
    suggestions.dismiss(suggestions.boxes[3], "dog")
    assert suggestions.shown(gt, ["cat", "cat"]).tolist() == [0]
    # a new checkpoint's detections: the rejected dog, moved a little, stays hidden
    suggestions.set_detections(np.array([[71, 71, 90, 90], [0, 0, 10, 10]]), ["dog", "cat"], np.array([0.8, 0.8]))
    assert suggestions.shown(np.zeros((0, 4)), []).tolist() == [1]
    suggestions.restore([70, 70, 90, 90], "dog")
    assert suggestions.shown(np.zeros((0, 4)), []).tolist() == [0, 1]
    with pytest.raises(ValueError, match="between 0 and 1"):
        suggestions.set_min_score(1.5)



def test_uncertainty_is_the_largest_class_score_entropy_in_bits():
    confident = [[0.0, 1.0, 0.0]]
    assert detection_uncertainty(torch.tensor(confident)) == 0.0
    assert detection_uncertainty(torch.zeros(0, 3)) == 0.0
    mixed = torch.tensor([[0.1, 0.9, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0]])
    assert detection_uncertainty(mixed) == pytest.approx(math.log2(3))


def _result(uncertainty: float) -> ImageResult:
    return ImageResult(None, (1.0, 1.0), None, uncertainty)


def test_document_ranks_by_uncertainty_highest_first_unanalysed_last():
    doc = Document()
    doc.add_sources([memory_source(5)])
    doc.set_results(doc.results_key, {0: _result(0.2), 1: _result(1.4), 3: _result(0.9), 4: _result(0.0)})
    assert doc.ranked("uncertainty") == [1, 3, 0, 4, 2]


def test_class_file_round_trip(tmp_path):
    assert read_class_file(tmp_path) == []
    assert write_class_file(tmp_path, ["dog", "cat"]) == tmp_path / CLASS_FILE
    assert (tmp_path / CLASS_FILE).read_text() == "dog\ncat\n"
    assert write_class_file(tmp_path, ["dog", "cat"]) is None  # unchanged: not rewritten
    (tmp_path / CLASS_FILE).write_text(" dog \n\ncat\ndog\n")
    assert read_class_file(tmp_path) == ["dog", "cat"]
    (tmp_path / CLASS_FILE).write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ClassFileError, match=CLASS_FILE):
        read_class_file(tmp_path)


def labelled_folder(tmp_path, n: int, labelled: int):
    """``n`` images in a folder, the first ``labelled`` with a labelImg file beside them."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for k in range(n):
        Image.fromarray(draw_image(seed=k)).save(folder / f"im{k}.png")
        if k < labelled:
            boxes = [BoxAnnotation(name, tuple(box)) for name, box in zip(("red", "blue"), BOXES)]
            write_voc_xml(ImageAnnotation(f"im{k}.png", 160, 120, 3, boxes), folder / f"im{k}.xml")
    return folder


def test_retrain_keywords_train_on_the_labelled_folder_with_a_held_out_share(tmp_path):
    folder = labelled_folder(tmp_path, 6, 5)
    sources, _ = open_annotation_sources([str(folder)])
    entries = entries_of(sources[0])
    files = AnnotationFiles()
    keywords = retrain_keywords(files, entries, 0, ("red", "blue", "green"), None, None, iterations=7)
    assert keywords["data"] == str(folder) and keywords["class_names"] == ("red", "blue", "green")
    assert keywords["iterations"] == 7 and "resume" not in keywords
    options = TrainingOptions.from_keywords(**keywords)
    train, val = open_training_data(options), open_validation_data(options)
    assert (len(train), len(val)) == (4, 1)  # 5 labelled images, 20% held out; the unlabelled one is not listed
    assert tuple(train.class_names) == ("red", "blue", "green")  # the class list's order, every class
    assert not set(train.image_ids) & set(val.image_ids)
    run = RunSoFar("/runs/a/last.pt", 40, ("red", "blue", "green"))
    resumed = retrain_keywords(files, entries, 0, ("red", "blue", "green"), "/runs/a/last.pt", run, iterations=7)
    assert resumed["resume"] == "/runs/a/last.pt" and resumed["iterations"] == 47
    fresh = retrain_keywords(files, entries, 0, ("red", "blue", "green"), "/elsewhere.pt", run)
    assert "resume" not in fresh
    with pytest.raises(ValueError, match="no classes"):
        retrain_keywords(files, entries, 0, (), None, None)


def test_retrain_needs_two_labelled_images(tmp_path):
    folder = labelled_folder(tmp_path, 3, MIN_LABELLED - 1)
    sources, _ = open_annotation_sources([str(folder)])
    with pytest.raises(ValueError, match="labelled images"):
        retrain_keywords(AnnotationFiles(), entries_of(sources[0]), 0, ("red", "blue"), None, None)


def fake_trace(boxes, labels, scores, num_classes: int = 2):
    """An eval trace of the conftest image by an untrained small model, its detections replaced."""
    torch.manual_seed(0)
    model = FasterRCNN(cpu_config(num_classes, ("red", "blue"), min_size=64, max_size=96)).eval()
    image, _ = MemoryDataset()[0]
    trace = model.trace(image)
    labels = torch.tensor(labels)
    scores = torch.tensor(scores, dtype=torch.float32)
    class_scores = torch.zeros(len(labels), num_classes + 1)
    class_scores[torch.arange(len(labels)), labels] = scores
    class_scores[:, 0] = 1 - scores
    trace.detections = Detections(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4), scores, labels, class_scores,
                                  torch.zeros(len(labels), dtype=torch.int64), torch.zeros(len(labels), 4))
    return trace, model.config


def test_notes_say_where_a_suggestion_came_from_and_why_a_box_was_missed():
    trace, config = fake_trace([BOXES[0]], [1], [0.9])
    note = suggestion_note(trace, 0, config)
    assert note.startswith("suggestion: red 0.90") and "proposal #0" in note
    notes = missed_notes(trace, np.array(BOXES), np.array([1, 2]), score_threshold=0.5)
    assert list(notes) == [1]  # the red square is detected, the blue bar is not
    assert notes[1].startswith("the model lost this box: ")
    assert missed_notes(trace, np.array(BOXES), np.array([0, 0]), 0.5) == {}  # classes the model does not know
