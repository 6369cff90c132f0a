"""How long the window's "Train a quick model" (the untrained-model banner) takes on this CPU
until its detections make sense: the same run as the button starts (the ``cpu`` preset on
``shapes``), scored every K iterations on the first images the viewer shows (the ``val``
split of ``shapes``) at the detections layer's default score threshold (0.5).

"Make sense" = on those images, at least 80 % of the GT objects found (IoU ≥ 0.5, right class)
and at least 80 % of the shown detections right. The result is printed as seconds since the
start, and as a ratio to the time of the whole preset run (extrapolated from the speed).

    OMP_NUM_THREADS=2 python benchmarks/bench_first_model.py --every 100 --images 8
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from frcnn_core.data import open_dataset
from frcnn_core.evaluation.metrics import match_image
from frcnn_viewer.state.first_run import QUICK_TRAINING
from frcnn_viewer.state.training.options import TrainingOptions, build_trainer, open_training_data


def score(model, images, score_threshold: float) -> tuple[int, int, int]:
    """(true positives, false positives, missed GT) of the shown detections over ``images``."""
    model.eval()
    tp = fp = missed = 0
    with torch.no_grad():
        for image, target in images:
            det = model.predict([image])[0]
            keep = det.scores >= score_threshold
            counts = match_image(det.boxes[keep], det.scores[keep], det.labels[keep], target["boxes"], target["labels"]).summary(score_threshold)
            tp, fp, missed = tp + counts["true_positives"], fp + counts["false_positives"], missed + counts["missed"]
    model.train()
    return tp, fp, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=100, help="score every K iterations")
    parser.add_argument("--images", type=int, default=8, help="how many of the viewer's first images to score on")
    parser.add_argument("--max-iterations", type=int, default=2000)
    parser.add_argument("--score-threshold", type=float, default=0.5)
    args = parser.parse_args()
    torch.manual_seed(0)
    options = TrainingOptions.from_keywords("shapes", device="cpu", **QUICK_TRAINING)
    viewer_set = open_dataset("shapes", split="val")
    images = [viewer_set[i] for i in range(args.images)]
    with tempfile.TemporaryDirectory() as folder:
        trainer = build_trainer(options, open_training_data(options), folder)
        total = trainer.config.iterations
        start = time.perf_counter()
        while trainer.iteration < min(total, args.max_iterations):
            trainer.step()
            if trainer.iteration % args.every:
                continue
            elapsed = time.perf_counter() - start
            tp, fp, missed = score(trainer.model, images, args.score_threshold)
            recall, precision = tp / max(tp + missed, 1), tp / max(tp + fp, 1)
            print(f"iteration {trainer.iteration:5d}  {elapsed:7.1f} s  TP {tp} FP {fp} missed {missed}  "
                  f"recall {recall:.2f} precision {precision:.2f}", flush=True)
            if recall >= 0.8 and precision >= 0.8:
                whole = elapsed / trainer.iteration * total
                print(f"detections make sense after {trainer.iteration} iterations, {elapsed:.0f} s "
                      f"({elapsed / whole:.2f} of the whole {total}-iteration preset run, ~{whole:.0f} s)")
                return
        print("not reached within", trainer.iteration, "iterations")


if __name__ == "__main__":
    main()
