"""Detectors composed from the stages: our Faster R-CNN, its backbones, input batching and checkpoints."""
