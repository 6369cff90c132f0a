"""Time our detector against torchvision's FasterRCNN built with the same trunk,
anchors, image size and sampling settings: one training step and one inference,
side by side in one run, printing the ratio (theirs / ours: > 1 means we are faster).

    python benchmarks/bench_detector.py [--backbone vgg16] [--size 800] [--device auto] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torchvision.models.detection import FasterRCNN as TorchvisionFasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign

from frcnn_core import DetectorConfig, FasterRCNN, build_backbone
from frcnn_core.train.devices import describe_device, select_device


def torchvision_peer(cfg: DetectorConfig) -> TorchvisionFasterRCNN:
    backbone = build_backbone(cfg.backbone)
    trunk = backbone.trunk
    trunk.out_channels = backbone.out_channels
    sizes = tuple(float(s * cfg.anchor_stride) for s in cfg.anchor_scales)
    pooled = backbone.out_channels * cfg.roi_output_size**2
    return TorchvisionFasterRCNN(
        trunk,
        num_classes=None,
        box_head=TwoMLPHead(pooled, cfg.head_hidden),  # the same fc6/fc7 widths as ours (torchvision's default is 1024)
        box_predictor=FastRCNNPredictor(cfg.head_hidden, cfg.num_classes + 1),
        min_size=cfg.min_size,
        max_size=cfg.max_size,
        rpn_anchor_generator=AnchorGenerator((sizes,), (tuple(cfg.anchor_ratios),)),
        box_roi_pool=MultiScaleRoIAlign(["0"], cfg.roi_output_size, 2),
        rpn_pre_nms_top_n_train=cfg.rpn_pre_nms_top_n_train,
        rpn_post_nms_top_n_train=cfg.rpn_post_nms_top_n_train,
        rpn_pre_nms_top_n_test=cfg.rpn_pre_nms_top_n_test,
        rpn_post_nms_top_n_test=cfg.rpn_post_nms_top_n_test,
        rpn_nms_thresh=cfg.rpn_nms_thresh,
        rpn_fg_iou_thresh=cfg.rpn_pos_iou,
        rpn_bg_iou_thresh=cfg.rpn_neg_iou,
        rpn_batch_size_per_image=cfg.rpn_num_samples,
        box_batch_size_per_image=cfg.roi_num_samples,
        box_positive_fraction=cfg.roi_fg_fraction,
        box_score_thresh=cfg.score_thresh,
        box_nms_thresh=cfg.nms_thresh,
        box_detections_per_img=cfg.detections_per_image,
    )


def interleaved_medians(functions: dict, device: torch.device, repeats: int) -> dict[str, float]:
    """Median seconds of each function, alternating between them on every repeat so that
    background load on the machine hits both sides alike."""
    for fn in functions.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="vgg16")
    parser.add_argument("--size", type=int, default=800)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--amp", action="store_true", help="autocast float16 on CUDA for both")
    args = parser.parse_args()

    device = select_device(args.device)
    torch.manual_seed(0)
    cfg = DetectorConfig(num_classes=20, backbone=args.backbone, min_size=args.size, max_size=max(args.size, 1333))
    images = [torch.rand(3, args.size, args.size, device=device) for _ in range(args.batch)]
    targets = [
        {"boxes": torch.tensor([[30.0, 20.0, 500.0, 400.0], [400.0, 300.0, 600.0, 500.0]], device=device) * args.size / 800,
         "labels": torch.tensor([6, 8], device=device)}
        for _ in range(args.batch)
    ]
    models = {"ours": FasterRCNN(cfg).to(device), "torchvision": torchvision_peer(cfg).to(device)}
    print(f"device: {describe_device(device)}; backbone {args.backbone}; {args.batch} image(s) of {args.size}x{args.size}")

    train_steps, inferences = {}, {}
    for name, model in models.items():
        optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-4, momentum=0.9)

        def train_step(model=model, optimizer=optimizer):
            model.train()
            with torch.autocast("cuda", enabled=args.amp and device.type == "cuda"):
                loss = sum(model(images, targets).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        @torch.no_grad()
        def inference(model=model):
            model.eval()
            with torch.autocast("cuda", enabled=args.amp and device.type == "cuda"):
                model(images)

        train_steps[name], inferences[name] = train_step, inference

    results = {"train step": interleaved_medians(train_steps, device, args.repeats), "inference": interleaved_medians(inferences, device, args.repeats)}
    print(f"{'':12s} {'ours (s)':>10s} {'torchvision (s)':>16s} {'ratio':>7s}")
    for what in ("train step", "inference"):
        ours, theirs = results[what]["ours"], results[what]["torchvision"]
        print(f"{what:12s} {ours:10.3f} {theirs:16.3f} {theirs / ours:6.2f}x")


if __name__ == "__main__":
    main()
