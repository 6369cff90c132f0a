"""frcnn_core.annotations.model: clipping into the image and rejecting empty boxes."""

import math

import pytest

from frcnn_core.annotations import AnnotationError, BoxAnnotation, ImageAnnotation, class_names_of, clip_box


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((0, 0, 64, 48), (0.0, 0.0, 64.0, 48.0)),  # the whole image
        ((-5, -1, 70, 50), (0.0, 0.0, 64.0, 48.0)),
        ((10.5, 2.25, 11.0, 3.0), (10.5, 2.25, 11.0, 3.0)),  # sub-pixel boxes are kept
        ((10, 10, 10, 20), None),  # zero width
        ((20, 10, 10, 20), None),  # inverted
        ((64, 0, 80, 48), None),  # wholly right of the image
        ((0, 0, math.nan, 10), None),
        ((0, 0, math.inf, 10), None),
    ],
)
def test_clip_box(box, expected):
    assert clip_box(box, 64, 48) == expected


def test_image_helpers():
    a = ImageAnnotation("a.jpg", 10, 10, boxes=[BoxAnnotation("cat", (0, 0, 12, 5)), BoxAnnotation("ant", (1, 1, 2, 2))])
    assert a.labels() == ["cat", "ant"]
    assert [b.box for b in a.clipped_boxes()] == [(0.0, 0.0, 10.0, 5.0), (1.0, 1.0, 2.0, 2.0)]
    assert a.boxes[0].box == (0, 0, 12, 5)  # the annotation itself is untouched
    assert class_names_of([a, ImageAnnotation("b.jpg", 1, 1, boxes=[BoxAnnotation("bee", (0, 0, 1, 1))])]) == ["ant", "bee", "cat"]
    a.boxes.append(BoxAnnotation("gnu", (10, 0, 12, 5)))
    with pytest.raises(AnnotationError, match=r"a\.jpg: box #3 \('gnu'\)"):
        a.clipped_boxes()


def test_defaults_are_not_shared():
    first, second = ImageAnnotation("a.jpg", 1, 1), ImageAnnotation("b.jpg", 1, 1)
    first.boxes.append(BoxAnnotation("x", (0, 0, 1, 1)))
    first.warnings.append("w")
    assert second.boxes == [] and second.warnings == []
