"""Time ``frcnn diagnose``'s work against ``frcnn eval``'s on the same model and images.

eval: batched inference (``--batch-size``, eval's default 4) and the scoring ``frcnn eval``
prints (VOC area and 11-point, COCO through pycocotools). diagnose: one traced pass per
image and the diagnosis. The two sides alternate ``--repeats`` times; the best time of
each is compared. The issue's budget is diagnose <= 1.3x eval on the CPU.

    python benchmarks/bench_diagnose.py                          # random cpu-preset model, 50 shapes images
    python benchmarks/bench_diagnose.py --checkpoint runs/shapes/last.pt --num-images 200
"""

from __future__ import annotations

import argparse
import time

import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.data import open_dataset
from frcnn_core.evaluation.diagnose import diagnose_dataset
from frcnn_core.evaluation.scoring import score_detections
from frcnn_core.inference import predict_dataset
from frcnn_core.models.checkpoint import load_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a trained model (default: the cpu preset with random weights)")
    parser.add_argument("--data", default="shapes")
    parser.add_argument("--num-images", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    dataset = open_dataset(args.data, split="val", **({"num_images": args.num_images} if args.data in ("shapes", "composite") else {}))
    if args.checkpoint:
        model, _ = load_checkpoint(args.checkpoint)
    else:
        torch.manual_seed(0)
        model = FasterRCNN(cpu_config(len(dataset.class_names), dataset.class_names))
    model.eval()

    def evaluate() -> None:
        score_detections(predict_dataset(model, dataset, batch_size=args.batch_size), dataset)

    def diagnose() -> None:
        diagnose_dataset(model, dataset)

    times = {"eval": [], "diagnose": []}
    for _ in range(args.repeats):
        for name, work in (("eval", evaluate), ("diagnose", diagnose)):
            start = time.perf_counter()
            work()
            times[name].append(time.perf_counter() - start)
    best = {name: min(values) for name, values in times.items()}
    detections = sum(len(d) for d in predict_dataset(model, dataset, batch_size=args.batch_size))
    print(f"{len(dataset)} images of {args.data}, {detections / len(dataset):.1f} detections per image, torch threads {torch.get_num_threads()}")
    print(f"eval (batch {args.batch_size}): {best['eval']:.2f} s   diagnose: {best['diagnose']:.2f} s   ratio diagnose/eval: {best['diagnose'] / best['eval']:.2f}x")


if __name__ == "__main__":
    main()
