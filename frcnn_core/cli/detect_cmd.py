"""``frcnn detect``: run a checkpoint on images, a video or a dataset and write detections JSON.

Under ``torchrun --nproc_per_node=N`` the images are shared among the processes and the
first one writes the merged file, the same as one process writes."""

from __future__ import annotations

from pathlib import Path

from ..data import ImageFolderDataset, VideoDataset, is_video_file
from ..files.export import to_coco_results, to_rich_results, write_json
from ..files.render import render_detections
from ..inference import predict_dataset
from ..train import init_from_environment, select_device
from ..train.distributed import shutdown
from .model_file import add_model_flags, open_model
from .progress import add_progress_flag, open_dataset_announced, progress_bar, wants_progress


def add_parser(sub) -> None:
    p = sub.add_parser("detect", help="detect objects", description="Write detections as COCO results or the rich per-image format.")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("inputs", nargs="*", help="image files or folders, or one video file (image_id = frame index)")
    p.add_argument("--data", help="a dataset instead of images; with a COCO file, ids are that file's own")
    p.add_argument("--split", default="val")
    p.add_argument("-o", "--output", type=Path, required=True, help="detections JSON to write")
    p.add_argument("--format", choices=("coco", "rich"), default="coco")
    p.add_argument("--score-threshold", type=float, default=None, help="the model's score threshold (DetectorConfig.score_thresh, default: the checkpoint's): the model outputs no detection scoring below it")
    p.add_argument("--render", type=Path, help="also write PNGs with the boxes drawn into this folder")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=1)
    add_model_flags(p)
    add_progress_flag(p)
    p.set_defaults(run=run)


def _input_dataset(inputs: list[str]):
    """The images named on the command line, or the frames of the one video named."""
    videos = [item for item in inputs if is_video_file(Path(item))]
    if not videos:
        return ImageFolderDataset(inputs)
    if len(inputs) > 1:
        raise ValueError(f"a video is detected on its own: give {videos[0]} alone, or images and folders without videos")
    return VideoDataset(videos[0])


def run(args) -> int:
    if bool(args.inputs) == bool(args.data):
        raise ValueError("give either image files/folders or --data, not both or neither")
    device = select_device(args.device)
    group = init_from_environment(device)
    try:
        return _detect(args, device, group)
    finally:
        shutdown()


def _detect(args, device, group) -> int:
    dataset = open_dataset_announced(args.data, announce=group.is_main and not args.no_progress, split=args.split) if args.data else _input_dataset(args.inputs)
    model = open_model(args, device, group.is_main, dataset if args.data else None)
    if args.score_threshold is not None:
        model.reconfigure(score_thresh=args.score_threshold)
    show = wants_progress(args) and group.is_main
    reported = len(dataset.problems)
    if group.is_main:
        for problem in dataset.problems:
            print(f"warning: {problem}")
    with progress_bar(show, "detect") as progress:
        detections = predict_dataset(model, dataset, batch_size=args.batch_size, device=device, progress=progress, process_group=group)
    if not group.is_main:
        return 0
    for problem in dataset.problems[reported:]:  # files found unreadable while predicting
        print(f"warning: {problem}")
    infos = [dataset.info(i) for i in range(len(dataset))]
    category_ids = list(dataset.category_ids) or list(range(1, model.config.num_classes + 1))
    if args.format == "coco":
        payload = to_coco_results(detections, [info["image_id"] for info in infos], category_ids)
    else:
        images = [{"path": info["path"], "width": info["size"][1], "height": info["size"][0], "image_id": info["image_id"]} for info in infos]
        identity = {"checkpoint": str(args.checkpoint), "config_fingerprint": model.config.fingerprint(), "backbone": model.config.backbone}
        payload = to_rich_results(detections, images, list(model.config.class_names) or [f"class {k}" for k in range(1, model.config.num_classes + 1)], identity)
    write_json(payload, args.output)
    total = sum(len(d) for d in detections)
    print(f"{total} detections in {len(dataset)} images written to {args.output}")
    if args.render:
        for i, det in enumerate(detections):
            image, _ = dataset[i]
            name = Path(infos[i]["path"]).stem if infos[i]["path"] else f"image_{infos[i]['image_id']}"
            render_detections(image, det, model.config, args.render / f"{name}.png")
        print(f"rendered {len(detections)} images into {args.render}")
    return 0
