"""Time ``frcnn diagnose``'s work against ``frcnn eval``'s on the same model and images, and its dAP part.

eval: batched inference (``--batch-size``, eval's default 4) and the scoring ``frcnn eval``
prints (VOC area and 11-point, COCO through pycocotools). diagnose: one traced pass per
image, the diagnosis and what each error costs (``diagnose_dataset``, what the command
runs). The two sides alternate ``--repeats`` times; the best time of each is compared. The
issue's budget is diagnose <= 1.3x eval on the CPU.

The dAP part is timed alone on the same traces: TIDE's matching of each image
(``tide_image``, inside ``diagnose_trace``) and the oracles over the set
(``error_costs``: six TIDE types, seven stages); diagnose before the dAP is the whole
minus that part. The peer is the ``tidecv`` package (the test extra) computing its six
dAPs on the same detections; the largest difference between its figures and ours is printed.

    python benchmarks/bench_diagnose.py                          # random cpu-preset model, 50 shapes images
    python benchmarks/bench_diagnose.py --checkpoint runs/shapes/last.pt --num-images 200
"""

from __future__ import annotations

import argparse
import time

import torch
from tidecv import TIDE, Data

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.data import open_dataset
from frcnn_core.evaluation.diagnose import diagnose_dataset, diagnose_trace, error_costs
from frcnn_core.evaluation.metrics import target_arrays
from frcnn_core.evaluation.scoring import score_detections
from frcnn_core.evaluation.tide import tide_image
from frcnn_core.inference import predict_dataset
from frcnn_core.models.checkpoint import load_checkpoint

NAMES = {"Cls": "classification", "Loc": "localization", "Both": "both", "Dupe": "duplicate", "Bkg": "background", "Miss": "missed"}


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def tidecv_daps(detections, targets) -> dict[str, float]:
    """The tidecv package's mAP and six dAPs of the same detections, as fractions (difficult
    boxes as its ignore regions)."""
    gt, preds = Data("gt", max_dets=10**9), Data("preds", max_dets=10**9)
    for image, (det, target) in enumerate(zip(detections, targets)):
        gt.add_image(image, str(image))
        preds.add_image(image, str(image))
        boxes, labels, difficult = target_arrays(target)
        for (x1, y1, x2, y2), label, hard in zip(boxes.tolist(), labels.tolist(), difficult.tolist()):
            (gt.add_ignore_region if hard else gt.add_ground_truth)(image, label, box=[x1, y1, x2 - x1, y2 - y1])
        for (x1, y1, x2, y2), score, label in zip(det.boxes.tolist(), det.scores.tolist(), det.labels.tolist()):
            preds.add_detection(image, label, score, [x1, y1, x2 - x1, y2 - y1])
    run = TIDE().evaluate(gt, preds, mode=TIDE.BOX)
    return {"map50": run.ap / 100, **{NAMES[error.short_name]: value / 100 for error, value in run.fix_main_errors().items()}}


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

    with torch.no_grad():
        samples = [dataset[i] for i in range(len(dataset))]
        traces = [model.trace(image) for image, _ in samples]
    targets = [target for _, target in samples]
    detections = [trace.detections for trace in traces]
    diagnoses = [diagnose_trace(trace, target) for trace, target in zip(traces, targets)]

    def tide_images() -> None:
        for det, target in zip(detections, targets):
            tide_image(det.boxes, det.scores, det.labels, target["boxes"], target["labels"], target.get("difficult"))

    dap = best_of(args.repeats, tide_images) + best_of(args.repeats, lambda: error_costs(diagnoses))
    peer = best_of(args.repeats, lambda: tidecv_daps(detections, targets))
    before = best["diagnose"] - dap
    ours = error_costs(diagnoses)
    theirs = tidecv_daps(detections, targets)
    gap = max([abs(ours.map50 - theirs["map50"])] + [abs(value - theirs[error.value]) for error, value in ours.tide.items()])

    print(f"{len(dataset)} images of {args.data}, {sum(len(d) for d in detections) / len(dataset):.1f} detections per image, torch threads {torch.get_num_threads()}")
    print(f"eval (batch {args.batch_size}): {best['eval']:.2f} s   diagnose: {best['diagnose']:.2f} s   ratio diagnose/eval: {best['diagnose'] / best['eval']:.2f}x")
    print(f"dAP part of diagnose: {dap * 1000:.0f} ms; diagnose before the dAP {before:.2f} s, with it {best['diagnose']:.2f} s: {best['diagnose'] / before:.3f}x")
    print(f"dAP of the same detections: ours {dap * 1000:.0f} ms (6 types + 7 stages), tidecv {peer * 1000:.0f} ms (6 types): tidecv/ours {peer / dap:.1f}x")
    print(f"TIDE's mAP@0.5 {ours.map50:.4f}; ours vs tidecv, largest difference over the mAP and the six dAPs: {gap:.1e}")


if __name__ == "__main__":
    main()
