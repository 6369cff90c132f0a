"""Which inference settings score trained models best? Each kept checkpoint of
``bench_learning.py --keep DIR`` scored on its set's held-out images under every
combination of the detection NMS IoU, the proposals kept after the RPN's NMS, that
NMS's IoU and the box-voting IoU (``nms_thresh`` x ``rpn_post_nms_top_n_test`` x
``rpn_nms_thresh`` x ``box_vote_iou``, changed with ``model.reconfigure``: no retraining),
mAP@0.5 and COCO AP per combination, the mean over checkpoints per set.

    OMP_NUM_THREADS=1 python benchmarks/bench_inference_settings.py --keep DIR --nms 0.3 --proposals 100 --vote 0,0.8,0.9
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import torch
from bench_learning import BCCD, datasets, scores

from frcnn_core.inference import predict_dataset
from frcnn_core.models.checkpoint import load_checkpoint


def set_of(path: Path) -> str:
    """The set a kept checkpoint ``LABEL-SET-SEED.pt`` was trained on."""
    return path.stem.rsplit("-", 2)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, required=True, help="the folder of bench_learning.py --keep")
    parser.add_argument("--nms", default="0.3,0.5", help="detection NMS IoUs to try")
    parser.add_argument("--proposals", default="100,300", help="proposals kept after the RPN's NMS to try")
    parser.add_argument("--rpn-nms", default="0.7", help="IoUs of the RPN's NMS to try")
    parser.add_argument("--vote", default="0,0.8", help="box-voting IoUs to try (0: no voting)")
    parser.add_argument("--bccd", type=Path, default=BCCD)
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = list(itertools.product([float(v) for v in args.nms.split(",")], [int(v) for v in args.proposals.split(",")],
                                      [float(v) for v in args.rpn_nms.split(",")], [float(v) for v in args.vote.split(",")]))
    results: dict[tuple[str, float, int, float, float], list[dict]] = {}
    for path in sorted(args.keep.glob("*.pt")):
        name = set_of(path)
        test = datasets(name, args.bccd)[2]
        model, _ = load_checkpoint(path)
        model.eval()
        for nms, proposals, rpn_nms, vote in settings:
            model.reconfigure(nms_thresh=nms, rpn_post_nms_top_n_test=proposals, rpn_nms_thresh=rpn_nms, box_vote_iou=vote)
            row = scores(predict_dataset(model, test, 4, "cpu"), test)
            results.setdefault((name, nms, proposals, rpn_nms, vote), []).append(row)
            print(f"{path.name}: nms {nms} proposals {proposals} rpn nms {rpn_nms} vote {vote}: "
                  f"mAP@0.5 {row['map50']:.3f} COCO AP {row['coco_ap']:.3f}", flush=True)
    print(f"\n{'set':10s} {'nms':>5s} {'props':>6s} {'rpn nms':>7s} {'vote':>5s} {'mAP@0.5':>8s} {'COCO AP':>8s} {'models':>6s}")
    for (name, nms, proposals, rpn_nms, vote), rows in results.items():
        mean = lambda key: sum(r[key] for r in rows) / len(rows)  # noqa: E731
        print(f"{name:10s} {nms:5.2f} {proposals:6d} {rpn_nms:7.2f} {vote:5.2f} {mean('map50'):8.3f} {mean('coco_ap'):8.3f} {len(rows):6d}")


if __name__ == "__main__":
    main()
