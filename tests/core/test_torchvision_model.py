"""TorchvisionFasterRCNN against torchvision itself: the same detections, proposals, anchors and
losses as ``torchvision.models.detection``'s own model on the same image (random weights, no download)."""

from __future__ import annotations

import math

import pytest
import torch
from torchvision.models.detection.transform import resize_boxes
from torchvision.ops import box_iou

from frcnn_core import POSITIVE, TorchvisionArch, TorchvisionFasterRCNN, diagnose_trace
from frcnn_core.models.torchvision_frcnn import build_torchvision_detector
from frcnn_core.trace.staged import Stage

ARCHS = {
    # the builder's own settings but the image size; v2's box head runs four 3x3 convolutions
    # on every RoI, so it keeps fewer of them to stay fast on a CPU
    TorchvisionArch.MOBILENET_V3_LARGE_FPN: {},
    TorchvisionArch.RESNET50_FPN: {},
    TorchvisionArch.RESNET50_FPN_V2: {"rpn_post_nms_top_n_test": 100, "rpn_post_nms_top_n_train": 200, "box_batch_size_per_image": 128},
}
# the ResNet-50 trunks take several seconds a pass on a CPU
SLOW = {TorchvisionArch.RESNET50_FPN, TorchvisionArch.RESNET50_FPN_V2}
BOX_TOLERANCE, SCORE_TOLERANCE = 0.05, 1e-3


def random_model(arch: TorchvisionArch, seed: int = 0, **settings):
    torch.manual_seed(seed)
    reference = build_torchvision_detector(arch, 3, min_size=128, max_size=160, **{**ARCHS.get(arch, {}), **settings}).eval()
    # the random predictor scores every class alike; spread its outputs so scores and boxes differ
    with torch.no_grad():
        reference.roi_heads.box_predictor.cls_score.weight.normal_(0, 0.2)
        reference.roi_heads.box_predictor.bbox_pred.weight.normal_(0, 0.05)
        reference.rpn.head.cls_logits.weight.normal_(0, 0.2)
    return reference, TorchvisionFasterRCNN(reference, arch, ("a", "b", "c")).eval()


@pytest.fixture(scope="module", params=[pytest.param(a, id=a.value, marks=[pytest.mark.slow] if a in SLOW else []) for a in ARCHS])
def models(request):
    return random_model(request.param)


def image_of(height: int = 120, width: int = 150, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    image = torch.rand(3, height, width, generator=generator) * 0.3
    image[:, 20:80, 30:100] += 0.6  # something to look at
    return image


def assert_same_boxes_as_sets(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Every box of each set has a box of the other within the tolerance, and the counts agree."""
    assert ours.shape == theirs.shape
    if ours.numel() == 0:
        return
    distance = (ours[:, None, :] - theirs[None, :, :]).abs().amax(dim=2)
    assert distance.min(dim=1).values.max() <= BOX_TOLERANCE
    assert distance.min(dim=0).values.max() <= BOX_TOLERANCE


def test_detections_equal_torchvisions_eval_output(models):
    reference, model = models
    images = [image_of(), image_of(96, 140, seed=2)]
    with torch.no_grad():
        expected = reference(images)
    for ours, theirs in zip(model(images), expected):
        assert len(theirs["boxes"]) > 10
        assert torch.equal(ours.labels, theirs["labels"])
        assert (ours.boxes - theirs["boxes"]).abs().max() <= BOX_TOLERANCE
        assert (ours.scores - theirs["scores"]).abs().max() <= SCORE_TOLERANCE


def test_trace_records_torchvisions_anchors_proposals_and_detections(models):
    reference, model = models
    image = image_of()
    trace = model.trace(image)
    with torch.no_grad():
        images, _ = reference.transform([image])
        features = reference.backbone(images.tensors)
        anchors = reference.rpn.anchor_generator(images, list(features.values()))[0]
        proposals, _ = reference.rpn(images, features)
        detections = reference([image])[0]
    size, original = images.image_sizes[0], tuple(image.shape[-2:])
    assert_same_boxes_as_sets(trace.anchors, resize_boxes(anchors, size, original))
    assert_same_boxes_as_sets(trace.proposals, resize_boxes(proposals[0], size, original))
    assert (trace.detections.boxes - detections["boxes"]).abs().max() <= BOX_TOLERANCE
    assert (trace.detections.scores - detections["scores"]).abs().max() <= SCORE_TOLERANCE
    # anchors in AnchorGenerator order, row for row, and one level per feature map
    assert torch.allclose(trace.anchors, resize_boxes(anchors, size, original), atol=1e-4)
    assert [level.name for level in trace.levels] == list(features)
    assert [level.feature_size for level in trace.levels] == [tuple(f.shape[-2:]) for f in features.values()]
    assert sum(level.num_anchors for level in trace.levels) == anchors.shape[0]


def test_provenance_leads_from_detection_to_proposal_to_anchor(models):
    _, model = models
    trace = model.trace(image_of())
    det = trace.detections
    # the detection's score is its proposal's class probability, its box that proposal's box moved by its deltas
    assert torch.allclose(det.class_scores[torch.arange(len(det)), det.labels], det.scores)
    anchor = trace.proposal_anchor_index[det.proposal_index]
    assert (trace.objectness[anchor] - trace.proposal_scores[det.proposal_index]).abs().max() < 1e-6
    levels = trace.level_of_anchor(anchor)
    assert levels.min() >= 0 and levels.max() < len(trace.levels)


def test_proposals_are_a_subset_of_the_pre_nms_boxes_each_from_its_anchor(models):
    _, model = models
    trace = model.trace(image_of())
    pre = {i: k for k, i in enumerate(trace.pre_nms_anchor_index.tolist())}
    rows = torch.tensor([pre[i] for i in trace.proposal_anchor_index.tolist()])
    assert torch.equal(trace.pre_nms_boxes[rows], trace.proposals)
    assert (trace.proposal_scores[:-1] >= trace.proposal_scores[1:]).all()  # batched_nms sorts across levels


def test_a_cell_of_a_level_holds_the_anchors_torchvision_centres_on_it(models):
    _, model = models
    trace = model.trace(image_of())
    level = len(trace.levels) - 1
    rows = trace.cell_anchor_indices(1, 1, level=level)
    assert (trace.level_of_anchor(rows) == level).all()
    assert len(rows) == trace.levels[level].anchors_per_cell
    centres = (trace.anchors[rows, :2] + trace.anchors[rows, 2:]) / 2
    assert torch.allclose(centres, centres[:1].expand_as(centres), atol=0.51)  # torchvision rounds the base anchors
    geometry = trace.level_geometry(level)
    assert geometry.feature_size == trace.levels[level].feature_size and geometry.stride == trace.levels[level].stride
    assert trace.objectness_map(level).shape == trace.levels[level].feature_size


def test_losses_and_samples_equal_torchvisions_training_pass(models):
    reference, model = models
    image = image_of()
    target = {"boxes": torch.tensor([[30.0, 20.0, 100.0, 80.0], [5.0, 60.0, 40.0, 110.0]]), "labels": torch.tensor([1, 3])}
    reference.train()
    try:
        torch.manual_seed(7)
        expected = reference([image], [target])
        torch.manual_seed(7)
        trace = model.train().trace(image, target)
        torch.manual_seed(7)
        losses = model([image], [target])
    finally:
        reference.eval()
        model.eval()
    names = {"rpn_cls": "loss_objectness", "rpn_reg": "loss_rpn_box_reg", "roi_cls": "loss_classifier", "roi_reg": "loss_box_reg"}
    for ours, theirs in names.items():
        assert math.isclose(trace.losses[ours], expected[theirs].item(), rel_tol=1e-5, abs_tol=1e-7)
        assert math.isclose(losses[ours].item(), expected[theirs].item(), rel_tol=1e-5, abs_tol=1e-7)
    # torchvision's rules: 256 anchors at most, half positive at most; every GT box's best anchors positive
    sampled = trace.anchor_labels >= 0
    assert sampled.sum() <= 256 and (trace.anchor_labels == POSITIVE).sum() <= 128
    for g in range(2):
        best = trace.anchor_max_iou[trace.anchor_matched_gt == g].max()
        tied = (trace.anchor_matched_gt == g) & (trace.anchor_max_iou == best)
        assert (trace.anchor_candidate_labels[tied] == POSITIVE).all()  # allow_low_quality_matches
    assert trace.roi_labels.numel() <= 512 and (trace.roi_labels > 0).sum() <= 128
    assert (trace.roi_source == -1).sum() <= 2  # the GT boxes join the proposals


def test_anchor_labels_follow_torchvisions_matcher(models):
    reference, model = models
    image = image_of()
    target = {"boxes": torch.tensor([[30.0, 20.0, 100.0, 80.0]]), "labels": torch.tensor([2])}
    trace = model.trace(image, target, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        images, targets = reference.transform([image], [target])
        features = list(reference.backbone(images.tensors).values())
        anchors = reference.rpn.anchor_generator(images, features)
        labels, _ = reference.rpn.assign_targets_to_anchors(anchors, targets)
    assert torch.equal(trace.anchor_candidate_labels, labels[0].long())
    again = model.trace(image, target, generator=torch.Generator().manual_seed(0))
    assert torch.equal(trace.anchor_labels, again.anchor_labels) and torch.equal(trace.roi_boxes, again.roi_boxes)
    counts = trace.counts()
    assert counts["anchors"] == trace.anchors.shape[0] and counts["positive"] >= 1
    assignment = trace.anchor_assignment()
    assert assignment.counts()["positive"] == counts["positive"]
    iou = box_iou(target["boxes"], trace.anchors).max()
    assert trace.gt_without_positive() == ([0] if iou < trace.rpn_pos_iou else [])


def test_diagnosis_reads_every_level(models):
    _, model = models
    image = image_of()
    target = {"boxes": torch.tensor([[30.0, 20.0, 100.0, 80.0], [0.0, 0.0, 150.0, 120.0]]), "labels": torch.tensor([1, 2])}
    trace = model.trace(image)
    diagnosis = diagnose_trace(trace, target)
    best = box_iou(target["boxes"], trace.anchors).max(dim=1).values
    assert [g.best_anchor_iou for g in diagnosis.gt] == pytest.approx(best.tolist())
    if max(trace.levels[0].sizes) < 64:  # the ResNet FPN's P2: only a coarser level's anchor fits the whole image
        first = trace.level_slices()[0]
        assert diagnosis.gt[1].best_anchor_iou > box_iou(target["boxes"][1:], trace.anchors[first]).max() + 0.3


def test_the_config_shows_torchvisions_settings_and_reconfigure_writes_them_back():
    reference, model = random_model(TorchvisionArch.MOBILENET_V3_LARGE_FPN)
    config = model.config
    assert (config.min_size, config.max_size, config.num_classes, config.class_names) == (128, 160, 3, ("a", "b", "c"))
    assert (config.rpn_score_thresh, config.score_thresh, config.nms_thresh, config.detections_per_image) == (0.05, 0.05, 0.5, 100)
    assert (config.rpn_pre_nms_top_n_test, config.rpn_post_nms_top_n_test, config.rpn_nms_thresh) == (1000, 1000, 0.7)
    stale = model.reconfigure(score_thresh=0.3, nms_thresh=0.4, rpn_post_nms_top_n_test=50)
    assert stale == frozenset({Stage.PROPOSALS, Stage.ROI_SAMPLES, Stage.LOSSES, Stage.HEAD, Stage.DETECTIONS})
    assert (reference.roi_heads.score_thresh, reference.roi_heads.nms_thresh, reference.rpn.post_nms_top_n()) == (0.3, 0.4, 50)
    image = image_of()
    with torch.no_grad():
        expected = reference([image])[0]
    found = model([image])[0]
    assert torch.equal(found.labels, expected["labels"]) and (found.scores >= 0.3).all()
    assert model.trace(image).proposals.shape[0] <= 50
    assert model.reconfigure(min_size=160) == frozenset(Stage) and reference.transform.min_size == (160,)


@pytest.mark.parametrize(("changes", "message"), [
    ({"score_treshold": 0.3}, "unknown DetectorConfig field.*valid: num_classes"),
    ({"anchor_scales": (2.0,)}, "anchor_scales cannot be changed on torchvision's"),
    ({"box_vote_iou": 0.8}, "box_vote_iou cannot be changed on torchvision's.*no box voting"),
    ({"nms_thresh": 1.5}, "nms_thresh must be in 0..1"),
    ({"class_names": ("only one",)}, "class_names has 1 names but num_classes is 3"),
])
def test_reconfigure_refuses_what_torchvision_cannot_take(changes, message):
    _, model = random_model(TorchvisionArch.MOBILENET_V3_LARGE_FPN)
    before = model.config
    with pytest.raises(ValueError, match=message):
        model.reconfigure(**changes)
    assert model.config == before


def test_architecture_names_and_weights_aliases():
    assert TorchvisionArch.parse("fasterrcnn_resnet50_fpn_v2") is TorchvisionArch.RESNET50_FPN_V2
    assert TorchvisionArch.parse("FasterRCNN_MobileNet_V3_Large_320_FPN_Weights") is TorchvisionArch.MOBILENET_V3_LARGE_320_FPN
    assert TorchvisionArch.parse("FasterRCNN_ResNet50_FPN_Weights.COCO_V1") is TorchvisionArch.RESNET50_FPN
    with pytest.raises(ValueError, match="unknown architecture 'retinanet_resnet50_fpn'; choose one of fasterrcnn_resnet50_fpn"):
        TorchvisionArch.parse("retinanet_resnet50_fpn")


def test_a_staged_trace_reruns_only_what_a_change_makes_stale():
    from frcnn_core import StagedTrace

    _, model = random_model(TorchvisionArch.MOBILENET_V3_LARGE_FPN)
    image = image_of()
    target = {"boxes": torch.tensor([[30.0, 20.0, 100.0, 80.0]]), "labels": torch.tensor([2])}
    staged = StagedTrace(model, image, target, seed=3)
    staged.trace()
    assert model.reconfigure(nms_thresh=0.3) == frozenset({Stage.DETECTIONS})
    changed = staged.trace()
    assert staged.rerun == frozenset({Stage.DETECTIONS})
    fresh = model.trace(image, target, generator=torch.Generator().manual_seed(3))
    assert torch.equal(changed.detections.boxes, fresh.detections.boxes)
    assert torch.equal(changed.anchor_labels, fresh.anchor_labels) and changed.losses == fresh.losses
    model.reconfigure(rpn_score_thresh=0.5)
    changed = staged.trace()
    assert Stage.FEATURES not in staged.rerun and Stage.PROPOSALS in staged.rerun
    assert (changed.pre_nms_scores >= 0.5).all() and torch.equal(changed.proposals, model.trace(image).proposals)


def test_an_empty_target_box_is_refused_as_torchvision_refuses_it():
    _, model = random_model(TorchvisionArch.MOBILENET_V3_LARGE_FPN)
    target = {"boxes": torch.tensor([[10.0, 10.0, 50.0, 60.0], [30.0, 20.0, 30.0, 80.0]]), "labels": torch.tensor([1, 2])}
    with pytest.raises(ValueError, match=r"target 0: box 1 \[30.0, 20.0, 30.0, 80.0\] has no width or height"):
        model.trace(image_of(), target)
