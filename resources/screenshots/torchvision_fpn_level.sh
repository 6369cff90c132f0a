#!/usr/bin/env bash
# The README's torchvision screenshot in a real X11 window: a random-weights
# fasterrcnn_resnet50_fpn on the first BCCD photo, the anchors of level P4 at a clicked cell
# and the RPN's top 10 proposals. Needs ../shared/tools/real_window.sh (its `setup` once).
#   resources/screenshots/torchvision_fpn_level.sh BCCD_DIR REAL_WINDOW_SH
set -eu
bccd=${1:?the BCCD VOC folder}; real_window=${2:?the path of real_window.sh}
work=$(mktemp -d)
python -c "import torch, torchvision; torch.manual_seed(0); m = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=4); torch.save(m.state_dict(), '$work/resnet50_fpn.pth')"
"$real_window" start 1600x1000 "$bccd" --checkpoint "$work/resnet50_fpn.pth" --arch fasterrcnn_resnet50_fpn \
  --layers anchors,proposals --set 'anchors.level="2"' --set 'anchors.subset="cell"' --set 'proposals.top_k=10'
sleep 50  # ResNet-50 FPN at 800 px on a loaded CPU
"$real_window" do mousemove 749 449 click 1  # the white blood cell
sleep 4
"$real_window" shot "$work/screen.png"
"$real_window" stop
convert "$work/screen.png" -crop 1400x900+0+0 +repage resources/screenshots/torchvision_fpn_level.png
python -c "import sys; sys.path.insert(0, 'resources/screenshots'); from pathlib import Path; from png_budget import shrink_png; shrink_png(Path('resources/screenshots/torchvision_fpn_level.png'))"
