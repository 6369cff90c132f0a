"""The inference worker keeps the current image's stages: a parameter change re-runs only
what it affects, with the same answer as a full trace; a new image or model starts afresh."""

from __future__ import annotations

import pytest
import torch

from frcnn_core import DetectorConfig
from frcnn_core.config import INFERENCE_FIELDS
from frcnn_core.models.reconfigure import reconfigure_to
from frcnn_core.trace.stages import Stage
from frcnn_viewer.state.diagnosis import DiagnosisSettings
from frcnn_viewer.state.models import TraceRequest
from frcnn_viewer.workers import TRACE_SEED, InferenceWorker, request_config

CLASSES = ("red", "blue")


@pytest.fixture
def worker(qapp):
    worker = InferenceWorker()  # slots called directly: they run in this thread
    worker.answers, worker.errors = [], []
    worker.traced.connect(lambda key, trace: worker.answers.append((key, trace)))
    worker.failed.connect(worker.errors.append)
    worker.changes = []
    worker.reconfigured.connect(worker.changes.append)
    worker.use_untrained(CLASSES)
    worker.trunk_runs = 0

    def count(*_):
        worker.trunk_runs += 1

    worker._model.trunk.register_forward_hook(count)
    return worker


def request(key: int, image: torch.Tensor, target: dict | None, **params) -> TraceRequest:
    """A request with the viewer's default inference settings, ``params`` (DetectorConfig names) changed."""
    config = DetectorConfig().replace(**params)
    return TraceRequest(key, image, target, {name: getattr(config, name) for name in INFERENCE_FIELDS})


def fresh_trace(worker: InferenceWorker, req: TraceRequest):
    model = worker._model
    reconfigure_to(model, request_config(worker._info, req))
    return model.trace(req.image, req.target, generator=torch.Generator().manual_seed(TRACE_SEED))


def assert_same(a, b) -> None:
    for name in ("objectness", "pre_nms_boxes", "proposals", "anchor_labels", "roi_boxes", "roi_labels"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    for key in a.detections.keys():
        assert torch.equal(a.detections[key], b.detections[key]), key
    assert a.losses == b.losses


def test_parameter_changes_rerun_only_the_later_stages(worker):
    image = torch.rand(3, 120, 160)
    target = {"boxes": torch.tensor([[20.0, 16.0, 76.0, 72.0]]), "labels": torch.tensor([1])}
    steps = [
        (request(1, image, target), 1),
        (request(2, image, target, nms_thresh=0.6), 0),  # post-processing only
        (request(3, image, {k: v.clone() for k, v in target.items()}, nms_thresh=0.6, rpn_nms_thresh=0.5), 0),  # an equal target
        (request(4, image.clone(), target, score_thresh=0.2), 0),  # an equal image
        (request(5, image, target, rpn_post_nms_top_n_test=20), 0),
    ]
    for req, trunk_runs in steps:
        worker.trunk_runs = 0
        worker.trace(req)
        assert worker.trunk_runs == trunk_runs, req.key
        key, trace = worker.answers[-1]
        assert key == req.key
        assert_same(trace, fresh_trace(worker, req))
    assert worker.answers[-1][1].proposals.shape[0] <= 20 and not worker.errors


def test_a_new_image_target_or_model_runs_everything(worker):
    image = torch.rand(3, 120, 160)
    worker.trace(request(1, image, None))
    worker.trunk_runs = 0
    worker.trace(request(2, torch.rand(3, 120, 160), None))
    assert worker.trunk_runs == 1
    target = {"boxes": torch.tensor([[20.0, 16.0, 76.0, 72.0]]), "labels": torch.tensor([2])}
    worker.trace(request(3, image, target))
    assert worker.trunk_runs == 2
    assert worker.answers[-1][1].anchor_labels is not None

    old_model = worker._model
    worker.use_untrained(("cat",))  # another untrained model: the kept stages belong to the old one
    assert worker._model is not old_model
    worker.trace(request(4, image, None))
    assert worker.trunk_runs == 2  # the old model's trunk did not run
    assert worker.answers[-1][1].class_names == ("cat",)
    assert not worker.errors


def test_the_worker_changes_settings_through_the_model_and_says_so(worker):
    image = torch.rand(3, 120, 160)
    target = {"boxes": torch.tensor([[20.0, 16.0, 76.0, 72.0]]), "labels": torch.tensor([1])}

    def own(key: int, **params) -> TraceRequest:  # the model's own settings, ``params`` changed
        config = worker._info.config.replace(**params)
        return TraceRequest(key, image, target, {name: getattr(config, name) for name in INFERENCE_FIELDS})

    worker.trace(own(1))
    assert worker.changes == []  # the model's own settings: nothing changed
    worker.trace(own(2, nms_thresh=0.5))
    change = worker.changes[-1]
    assert change.fields == ("nms_thresh",) and change.stale == {Stage.DETECTIONS}
    assert worker._model.config.nms_thresh == 0.5
    # "analyse all" with other settings changes the model under the kept stages: they are told
    worker.predict(7, [], own(3, rpn_post_nms_top_n_test=20).config_changes, DiagnosisSettings())
    assert worker.changes[-1].fields == ("rpn_post_nms_top_n_test", "nms_thresh")
    worker.trunk_runs = 0
    worker.trace(own(4, nms_thresh=0.5))
    assert worker.trunk_runs == 0
    assert worker._staged.rerun == {Stage.PROPOSALS, Stage.HEAD, Stage.DETECTIONS, Stage.ROI_SAMPLES, Stage.LOSSES}
    assert_same(worker.answers[-1][1], fresh_trace(worker, own(4, nms_thresh=0.5)))
    assert not worker.errors
