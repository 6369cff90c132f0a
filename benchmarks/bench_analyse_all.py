""""Analyse all" with the diagnosis: one traced pass per image against the plain prediction it replaced.

Per image, the viewer's worker now traces the image once (``model.trace``), matches the
trace's detections and diagnoses it (``diagnose_image``); before, it ran ``model.predict``
and matched. This times both on the same ``shapes`` val images (CPU, the median of
``--repeats`` passes over the list) and prints the ratio, and the time of the curves tab's
computation (``evaluation_curves``: PR curves and confusion matrix) over the results.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_analyse_all.py [--checkpoint CKPT] [--images 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from frcnn_core import FasterRCNN, cpu_config
from frcnn_core.data import ShapesDataset
from frcnn_core.models.checkpoint import load_checkpoint
from frcnn_viewer.state.curves import evaluation_curves
from frcnn_viewer.state.diagnosis import DiagnosisSettings, diagnose_image
from frcnn_viewer.state.results import image_result
from frcnn_viewer.state.sources import Source, entries_of, load_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint")
    parser.add_argument("--images", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.checkpoint:
        model, _ = load_checkpoint(args.checkpoint)
    else:
        torch.manual_seed(0)
        model = FasterRCNN(cpu_config(4, ShapesDataset.CLASS_NAMES))
    model.eval()
    dataset = ShapesDataset(num_images=args.images, split="val")
    images = [load_image(e) for e in entries_of(Source("shapes", dataset, annotated=True))]
    config, settings = model.config, DiagnosisSettings()

    def predicted() -> dict:
        return {i: image_result(image, model.predict([image.tensor])[0], config) for i, image in enumerate(images)}

    def traced() -> dict:
        results = {}
        for i, image in enumerate(images):
            trace = model.trace(image.tensor)
            result = results[i] = image_result(image, trace.detections, config)
            result.diagnosis = diagnose_image(image, trace, config, settings)
        return results

    times = {"predict + match (before)": [], "trace + match + diagnose (now)": []}
    for _ in range(args.repeats):
        for name, run in zip(times, (predicted, traced)):
            start = time.perf_counter()
            results = run()
            times[name].append(time.perf_counter() - start)
    curve_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        evaluation_curves(results, list(config.class_names), 0.5, 0.5)
        curve_times.append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, seconds in medians.items():
        print(f"{name:32s} {seconds:7.2f} s for {len(images)} images ({1000 * seconds / len(images):.0f} ms per image)")
    before, now = medians.values()
    print(f"ratio now / before: {now / before:.2f}x")
    print(f"curves (PR + confusion matrix) of {len(images)} images: {1000 * statistics.median(curve_times):.1f} ms")


if __name__ == "__main__":
    main()
