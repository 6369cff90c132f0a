"""Time a parameter change answered by a staged trace against a full trace of the same image,
at the seed's setting (VGG16, 800 px; random weights), printing each as a ratio of the full trace.

    OMP_NUM_THREADS=1 python benchmarks/bench_staged_trace.py [--backbone vgg16] [--size 800x1067] [--repeats 3] [--target]

Changes timed (each alternates between two values, so every call has work to do):
detection NMS IoU and score threshold (post-processing only; score_thresh 0 makes every
class of every proposal a candidate, the most work post-processing can get), and RPN NMS
IoU (proposal layer, the head on the new proposals, post-processing). The proposal counts
are the defaults (pre-NMS 6000, post-NMS 300); the script prints how many proposals the
random RPN really gave, so a degenerate run shows.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable

import torch

from frcnn_core import DetectorConfig, FasterRCNN
from frcnn_core.models.reconfigure import reconfigure_to
from frcnn_core.trace.staged import Stage, StagedTrace


def interleaved_medians(functions: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each function, taking turns on every repeat so that background
    load on the machine hits all alike."""
    for fn in functions.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def alternating(staged: StagedTrace, current: list[DetectorConfig], field: str, values: tuple) -> Callable[[], None]:
    """A call that changes only ``field`` of the staged trace's config ``current[0]``, to the
    next of ``values`` in turn, and traces."""
    turn = itertools.cycle(values)

    def call():
        current[0] = current[0].replace(**{field: next(turn)})
        staged.trace(current[0])

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="vgg16")
    parser.add_argument("--size", default="800x1067", help="image HxW (the default config resizes to 800 on the short side)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", action="store_true", help="trace with two GT boxes (anchor targets, RoI samples, losses too)")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))

    torch.manual_seed(0)
    base = DetectorConfig(backbone=args.backbone, pretrained_backbone=False, score_thresh=0.0)
    model = FasterRCNN(base).eval()
    image = torch.rand(3, height, width)
    target = None
    if args.target:
        target = {"boxes": torch.tensor([[100.0, 120.0, 400.0, 500.0], [500.0, 300.0, 900.0, 700.0]]), "labels": torch.tensor([3, 7])}
    generator = lambda: torch.Generator().manual_seed(0)  # noqa: E731

    def full():
        reconfigure_to(model, base)
        return model.trace(image, target, generator=generator())

    trace = full()  # warm-up, and the counts below
    staged = StagedTrace(model, image, target, seed=0)
    staged.trace(base)
    print(f"{args.backbone}, image {height}x{width} -> input {trace.input_size[0]}x{trace.input_size[1]}, "
          f"{torch.get_num_threads()} thread(s), target: {'yes' if target else 'no'}")
    print(f"anchors {trace.anchors.shape[0]}, pre-NMS proposals {trace.pre_nms_boxes.shape[0]} (top-N {base.rpn_pre_nms_top_n_test}), "
          f"proposals {trace.proposals.shape[0]} (top-N {base.rpn_post_nms_top_n_test}), "
          f"detection candidates {trace.proposals.shape[0] * base.num_classes} at score_thresh 0, detections {len(trace.detections)}")

    current = [base]
    changes = {
        "detection NMS IoU (nms_thresh 0.5 <-> 0.3)": alternating(staged, current, "nms_thresh", (0.5, 0.3)),
        "score threshold (score_thresh 0.01 <-> 0)": alternating(staged, current, "score_thresh", (0.01, 0.0)),
        "RPN NMS IoU (rpn_nms_thresh 0.6 <-> 0.7)": alternating(staged, current, "rpn_nms_thresh", (0.6, 0.7)),
    }
    rerun = {}

    def noting_stages(name, call):
        def run():
            call()
            rerun[name] = ", ".join(s.value for s in Stage if s in staged.rerun)
        return run

    medians = interleaved_medians({"full": full, **{name: noting_stages(name, call) for name, call in changes.items()}}, args.repeats)
    full_s = medians.pop("full")
    print(f"{'full trace (model.trace)':45s} {full_s * 1000:9.1f} ms")
    for name, seconds in medians.items():
        print(f"{name:45s} {seconds * 1000:9.1f} ms   {seconds / full_s:.3f} of the full trace  (re-ran: {rerun[name]})")


if __name__ == "__main__":
    main()
