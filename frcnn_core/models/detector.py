"""One pass of a two-stage detector as a sequence of stage methods, shared by our
:class:`~frcnn_core.models.faster_rcnn.FasterRCNN` and the torchvision wrapper
(:class:`~frcnn_core.models.torchvision_frcnn.TorchvisionFasterRCNN`).

A detector that derives from :class:`StagedDetector` provides the stages (``extract_features``,
``propose_regions``, ``targets_in_input_pixels``, ``assign_anchors``, ``sample_rois``,
``classify``, ``compute_losses``, ``postprocess``, ``assemble_trace``) and a ``config``
(:class:`~frcnn_core.config.DetectorConfig`); :meth:`StagedDetector.run` calls them in order,
and :class:`frcnn_core.trace.staged.StagedTrace` calls the same methods to re-run only what a
configuration change affects. So ``forward``, ``predict``, ``trace`` and the staged trace
behave alike whichever detector is underneath.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..anchors.targets import NEGATIVE, POSITIVE, AnchorTargets
from ..roi.postprocess import Detections
from ..roi.targets import RoiSamples
from ..trace.trace import Trace
from .validation import validate_image, validate_target


@dataclass
class ForwardResult:
    """What one pass produced: losses (with targets), detections (eval or traced), the trace (if asked)."""

    losses: dict[str, Tensor] | None
    detections: list[Detections] | None
    trace: Trace | None
    stats: dict[str, float] | None = None


class StagedDetector(nn.Module):
    """``forward``, ``predict``, ``trace`` and ``run`` over the stage methods of a subclass.

    * train mode: ``model(images, targets)`` returns ``{"rpn_cls", "rpn_reg", "roi_cls", "roi_reg"}``.
    * eval mode: ``model(images)`` returns one :class:`Detections` per image, boxes in
      that image's original pixels.
    * ``model.trace(image, target=None)`` returns a :class:`Trace` of one image.

    Images are float ``[3, H, W]`` tensors in 0..1 (sizes may differ within a batch);
    targets are dicts with ``boxes`` ``[G, 4]`` xyxy original pixels and ``labels`` ``[G]`` in 1..C.
    """

    def forward(self, images: list[Tensor], targets: list[dict] | None = None, want_trace: bool = False, full_result: bool = False):
        """Losses (train mode) or detections (eval mode). With ``full_result`` (or ``want_trace``)
        the whole :class:`ForwardResult`: the trainer uses that form, so that
        DistributedDataParallel still wraps the call."""
        if self.training and targets is None:
            raise ValueError("in train mode the model needs targets; call model.eval() for inference")
        result = self.run(images, targets, want_trace=want_trace)
        if full_result or want_trace:
            return result
        return result.losses if self.training else result.detections

    @torch.no_grad()
    def predict(self, images: list[Tensor]) -> list[Detections]:
        """Detections for ``images`` whatever the current mode (uses the test-time proposal counts)."""
        was_training = self.training
        self.eval()
        try:
            return self.run(images).detections
        finally:
            self.train(was_training)

    @torch.no_grad()
    def trace(self, image: Tensor, target: dict | None = None, generator: torch.Generator | None = None) -> Trace:
        """Every stage of one image, as a :class:`Trace`. Uses the proposal counts of the current mode."""
        return self.run([image], [target] if target is not None else None, want_trace=True, generator=generator).trace

    def run(
        self,
        images: list[Tensor],
        targets: list[dict] | None = None,
        want_trace: bool = False,
        generator: torch.Generator | None = None,
    ) -> ForwardResult:
        """One pass. Losses when ``targets`` are given; detections in eval mode (and for the
        traced image); a trace of the first image when ``want_trace``.

        The pass is the stage methods below in order; :class:`frcnn_core.trace.staged.StagedTrace`
        calls the same methods to re-run only the stages a configuration change affects.
        """
        self.validate_inputs(images, targets)
        rpn = self.extract_features(images)
        proposals = self.propose_regions(rpn)

        losses = anchor_targets = roi_samples = roi_logits = stats = None
        if targets is not None:
            gt_boxes, gt_labels = self.targets_in_input_pixels(rpn, targets)
            anchor_targets = self.assign_anchors(rpn, gt_boxes, generator)
            roi_samples = self.sample_rois(rpn, proposals, gt_boxes, gt_labels, generator)
            roi_logits, roi_deltas = self.classify(rpn.features, [s.boxes for s in roi_samples])
            losses = self.compute_losses(rpn, anchor_targets, roi_samples, roi_logits, roi_deltas)
            stats = sampling_stats(anchor_targets, roi_samples, roi_logits)

        detections = None
        if not self.training:
            detections = self.postprocess(rpn, proposals, *self.classify(rpn.features, [p.boxes for p in proposals]))
        elif want_trace:
            with torch.no_grad():
                detections = self.postprocess(rpn, proposals[:1], *self.classify(rpn.features[:1], [proposals[0].boxes]))

        trace = None
        if want_trace:
            trace = self.assemble_trace(
                rpn, proposals[0], detections[0], targets[0] if targets is not None else None,
                anchor_targets[0] if anchor_targets is not None else None,
                roi_samples[0] if roi_samples is not None else None,
                roi_logits[: roi_samples[0].labels.numel()] if roi_samples is not None else None,
                losses,
            )
        return ForwardResult(losses, detections, trace, stats)

    def validate_inputs(self, images: list[Tensor], targets: list[dict] | None) -> None:
        """Raise ValueError naming the first bad image or target (shape, dtype, range, labels)."""
        if isinstance(images, Tensor) and images.ndim == 3:
            raise ValueError("images must be a list of [3, H, W] tensors; wrap a single image as [image]")
        if len(images) == 0:
            raise ValueError("no images given")
        for i, image in enumerate(images):
            validate_image(image, i)
        if targets is not None:
            if len(targets) != len(images):
                raise ValueError(f"got {len(targets)} targets for {len(images)} images")
            for i, target in enumerate(targets):
                validate_target(target, self.config.num_classes, i)


@torch.no_grad()
def sampling_stats(anchor_targets: list[AnchorTargets], roi_samples: list[RoiSamples], roi_logits: Tensor) -> dict[str, float]:
    """Sampling health per image of a batch: positive/negative anchors, fg/bg RoIs, head accuracy."""
    n = len(anchor_targets)
    anchor_labels = torch.cat([t.labels for t in anchor_targets])
    labels = torch.cat([s.labels for s in roi_samples])
    correct = roi_logits.argmax(dim=1) == labels
    fg = labels > 0
    counts = torch.stack([
        (anchor_labels == POSITIVE).sum(), (anchor_labels == NEGATIVE).sum(), fg.sum(), (~fg).sum(), correct.sum(), (correct & fg).sum(),
    ]).tolist()  # one device sync for all of them
    positive, negative, num_fg, num_bg, num_correct, fg_correct = counts
    return {
        "positive_anchors": positive / n,
        "negative_anchors": negative / n,
        "fg_rois": num_fg / n,
        "bg_rois": num_bg / n,
        "roi_accuracy": num_correct / (num_fg + num_bg) if num_fg + num_bg else float("nan"),
        "roi_fg_accuracy": fg_correct / num_fg if num_fg else float("nan"),
    }
