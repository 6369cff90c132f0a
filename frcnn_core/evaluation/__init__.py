"""How good a model is and why: VOC/COCO metrics, the diagnosis of misses, confusion, plots."""
