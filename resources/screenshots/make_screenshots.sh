#!/usr/bin/env bash
# Regenerate the README screenshots with `frcnn-viewer --screenshot` (offscreen).
#
#   resources/screenshots/make_screenshots.sh CHECKPOINT.pt
#
# CHECKPOINT is a shapes model. The pictures in this folder used the checkpoint at
# iteration 1500 of
#   frcnn train --data shapes --output runs/shapes --preset cpu --iterations 2000 --device cpu
# (VOC mAP@0.5 about 0.2 at iteration 600; it misses and confuses a few shapes, which
# the detections picture shows). Each PNG is reduced to a 256-colour palette when it
# would be larger than 300 KB.
#
# The whole-window pictures (window.png, workspace_*.png, torchvision_*.png, label_issues.png)
# are not made here: they are taken in a real X11 window at 1366x768, where the window
# manager, the screen's size and the fonts are those a user sees (an offscreen window
# cannot show a window taller than the screen or docks drawn over each other), and
# looked at before they are committed. This script never overwrites them.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECKPOINT=${1:?usage: $0 CHECKPOINT.pt}
OUT=resources/screenshots
PY=${PYTHON:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen
IMAGE=1  # shapes val image 1: six shapes of all four classes

shot() {  # shot NAME ARGS...: the image view only, 760x720 window
  local name=$1
  shift
  "$PY" -m frcnn_viewer --screenshot "$OUT/$name.png" --size 760x720 --checkpoint "$CHECKPOINT" "$@"
}

shot ground_truth --image $IMAGE --layers ground_truth shapes
shot anchors --image $IMAGE --layers anchors --set 'anchors.subset="cell"' --click 150,110 shapes
shot anchors_inside --image $IMAGE --layers anchors --set 'anchors.hidden_scales=[2.0, 4.0]' shapes
shot anchor_labels --image $IMAGE --layers ground_truth,anchor_labels --set ground_truth.show_names=false shapes
shot proposals --image $IMAGE --layers proposals --set proposals.top_k=40 shapes
shot roi_samples --image $IMAGE --layers roi_samples shapes
shot detections --image $IMAGE --layers detections --set detections.score_threshold=0.5 shapes
shot objectness --image $IMAGE --layers ground_truth,objectness --set ground_truth.show_names=false shapes
shot photo_anchors --layers anchors --set 'anchors.subset="cell"' --click 250,180 resources/photos/chelsea.jpg
"$PY" resources/screenshots/annotate_screenshot.py "$OUT/annotate.png"  # needs no checkpoint

"$PY" - "$OUT" ground_truth anchors anchors_inside anchor_labels proposals roi_samples detections objectness photo_anchors <<'PY'
import sys
from pathlib import Path
from PIL import Image

for path in (Path(sys.argv[1]) / f"{name}.png" for name in sys.argv[2:]):
    if path.stat().st_size > 300_000:
        with Image.open(path) as im:
            im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.name}: {path.stat().st_size // 1024} KB")
PY
