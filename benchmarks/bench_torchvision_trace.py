"""Time tracing a torchvision Faster R-CNN (every stage recorded, boxes back in original pixels,
CPU copies) against torchvision's own ``model.eval()`` forward of the same model on the same
image, and print the ratio.

    OMP_NUM_THREADS=1 python benchmarks/bench_torchvision_trace.py [--arch fasterrcnn_resnet50_fpn] [--size 800x1067] [--repeats 5]

Random weights (nothing is downloaded) with sharpened heads so that the RPN and the detector
do their full work: the builder's own settings (800 px, 1000 proposals, score threshold 0.05,
100 detections). Both run under ``torch.no_grad``; the calls take turns so that background
load hits both alike, and each figure is the median.
"""

from __future__ import annotations

import argparse

import torch
from bench_staged_trace import interleaved_medians  # noqa: E402 (benchmarks/ is on the path when run)

from frcnn_core import TorchvisionArch, TorchvisionFasterRCNN
from frcnn_core.models.torchvision_frcnn import build_torchvision_detector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default=TorchvisionArch.RESNET50_FPN.value, help="a torchvision Faster R-CNN builder")
    parser.add_argument("--size", default="800x1067", help="image HxW (the builders resize to 800 on the short side, 320 for the _320_ one)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))

    torch.manual_seed(0)
    reference = build_torchvision_detector(args.arch, 90).eval()
    with torch.no_grad():
        reference.rpn.head.cls_logits.weight.normal_(0, 0.2)
        reference.roi_heads.box_predictor.cls_score.weight.normal_(0, 10.0)  # random box-head features are small
    model = TorchvisionFasterRCNN(reference, args.arch).eval()
    image = torch.rand(3, height, width)

    def plain():
        with torch.no_grad():
            return reference([image])

    def traced():
        return model.trace(image)

    trace = traced()
    detections = plain()[0]
    assert torch.equal(trace.detections.labels, detections["labels"]), "the trace's detections differ from torchvision's"
    levels = ", ".join(f"{level.name} {level.feature_size[0]}x{level.feature_size[1]}" for level in trace.levels)
    print(f"{args.arch}, image {height}x{width} -> input {trace.input_size[0]}x{trace.input_size[1]}; levels {levels}")
    print(f"{trace.anchors.shape[0]} anchors, {trace.pre_nms_boxes.shape[0]} pre-NMS boxes, {trace.proposals.shape[0]} proposals, "
          f"{len(trace.detections)} detections; torch threads {torch.get_num_threads()}")
    medians = interleaved_medians({"model.eval() forward": plain, "model.trace(image)": traced}, args.repeats)
    base = medians["model.eval() forward"]
    for name, seconds in medians.items():
        print(f"{name:22s} {seconds * 1000:9.1f} ms   {seconds / base:5.3f}x")


if __name__ == "__main__":
    main()
