"""Labelling with the model's suggestions against labelling from scratch, in box edits.

A model is trained on a few labelled ``composite`` images (the ``cpu`` preset), then the
``composite`` val images are "labelled" with their GT hidden: the suggestions the viewer
would show (``SuggestionSet``: detections scoring at least the threshold) are accepted, and
the edits still needed to reach the true GT are counted by
``labelling_edits.edits_to_reach`` (match at IoU >= 0.7 is right;
0.5-0.7 one move; wrong class one relabel; extra one delete; missing one draw). Without
suggestions every true box is one draw. Also printed: the time to train and to make the
suggestions, and whether the images the uncertainty rule puts first are those that need the
most edits.

    OMP_NUM_THREADS=1 python benchmarks/bench_labelling.py                  # 20 images, 300 iterations
    python benchmarks/bench_labelling.py --checkpoint run/last.pt           # skip training
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from labelling_edits import EditCount, edits_to_reach

from frcnn_core import FasterRCNN
from frcnn_core.data import open_dataset
from frcnn_core.evaluation.metrics import evaluate_voc
from frcnn_core.models.checkpoint import load_checkpoint
from frcnn_core.presets import Preset, PresetName, detector_config, train_config
from frcnn_core.train import Trainer
from frcnn_viewer.annotation.model.suggestions import SuggestionSet
from frcnn_viewer.state.results import detection_uncertainty


def train(images: int, iterations: int, output_dir: str) -> tuple[FasterRCNN, float]:
    dataset = open_dataset("composite", split="train", num_images=images)
    preset = Preset(PresetName.CPU)
    model = FasterRCNN(detector_config(tuple(dataset.class_names), preset))
    trainer = Trainer(model, dataset, train_config(preset, {"iterations": iterations, "checkpoint_every": iterations}), output_dir, "cpu")
    start = time.perf_counter()
    trainer.run()
    return trainer.model.eval(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--val-images", type=int, default=40)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.3, 0.5, 0.7])
    parser.add_argument("--checkpoint", help="a trained checkpoint (skips training)")
    parser.add_argument("--output-dir", help="where the trained checkpoint goes (default: a temporary folder)")
    args = parser.parse_args()
    torch.manual_seed(0)

    with tempfile.TemporaryDirectory() as scratch:
        if args.checkpoint:
            model, _ = load_checkpoint(args.checkpoint)
            model.eval()
            train_seconds = None
        else:
            model, train_seconds = train(args.train_images, args.iterations, args.output_dir or scratch)
    config = model.config
    val = open_dataset("composite", split="val", num_images=args.val_images)

    detections, truths, seconds = [], [], []
    with torch.no_grad():
        for i in range(len(val)):
            image, target = val[i]
            start = time.perf_counter()
            detections.append(model.predict([image])[0].map(lambda t: t.detach().cpu()))
            seconds.append(time.perf_counter() - start)
            truths.append((target["boxes"].numpy(), [val.class_names[int(k) - 1] for k in target["labels"]]))
    report = evaluate_voc(
        [{"boxes": d.boxes, "scores": d.scores, "labels": d.labels} for d in detections],
        [{"boxes": torch.as_tensor(b), "labels": torch.tensor([val.class_names.index(n) + 1 for n in names])} for b, names in truths],
        num_classes=config.num_classes,
    )
    true_boxes = sum(len(names) for _, names in truths)
    if train_seconds is not None:
        print(f"trained on {args.train_images} composite images, {args.iterations} iterations ({config.backbone}, {config.min_size} px): "
              f"{train_seconds:.0f} s on {torch.get_num_threads()} thread(s)")
    print(f"{len(val)} val images, {true_boxes} true boxes; model mAP@0.5 {report['map']:.3f}; "
          f"suggestions {1e3 * float(np.median(seconds)):.0f} ms per image (median)")
    print(f"{'labelling':<28}{'edits':>7}{'draws':>7}{'moves':>7}{'relabels':>9}{'deletes':>9}{'kept':>6}{'edits/box':>11}")
    scratch_count = EditCount(draws=true_boxes)
    rows = [("from scratch", scratch_count)]
    per_image_edits = {}
    for threshold in args.thresholds:
        total = EditCount()
        suggestions = SuggestionSet(min_score=threshold)
        for k, (det, (boxes, names)) in enumerate(zip(detections, truths)):
            suggestions.set_detections(det.boxes.double().numpy(), [config.label_name(int(j)) for j in det.labels], det.scores.double().numpy())
            shown = suggestions.shown(np.zeros((0, 4)), [])
            count = edits_to_reach(suggestions.boxes[shown], [suggestions.names[j] for j in shown], boxes, names)
            per_image_edits.setdefault(threshold, []).append(count.total)
            total = total + count
        rows.append((f"accept suggestions >= {threshold:g}", total))
    for name, c in rows:
        print(f"{name:<28}{c.total:>7}{c.draws:>7}{c.moves:>7}{c.relabels:>9}{c.deletes:>9}{c.right:>6}{c.total / max(true_boxes, 1):>11.2f}")
    best = min(rows[1:], key=lambda row: row[1].total)
    print(f"best: {best[0]}: {best[1].total} edits against {scratch_count.total} from scratch, {scratch_count.total / max(best[1].total, 1):.2f}x fewer")

    # Does the uncertainty rule put first the images that need the most edits?
    threshold = float(best[0].rsplit(" ", 1)[1])
    uncertainty = np.array([detection_uncertainty(d.class_scores) for d in detections])
    edits = np.array(per_image_edits[threshold], dtype=float)
    order = np.argsort(-uncertainty, kind="stable")
    half = len(order) // 2
    print(f"edits per image at {threshold:g}: most uncertain half {edits[order[:half]].mean():.2f}, "
          f"least uncertain half {edits[order[half:]].mean():.2f}, list order first half {edits[:half].mean():.2f}")


if __name__ == "__main__":
    main()
