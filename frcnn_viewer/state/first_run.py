"""The untrained-model banner's one click: what a quick first model is trained on, and how.

The quick model is the ``cpu`` preset (the light trunk at 256 px) writing a checkpoint every
:data:`CHECKPOINT_EVERY` iterations, so that the window switches to a better model as each one
arrives. It trains on the newest annotated dataset the user opened, or on the bundled
``shapes`` when nothing open has labels.
"""

from __future__ import annotations

from .sources import GENERATED

CHECKPOINT_EVERY = 100
QUICK_TRAINING = {"preset": "cpu", "checkpoint_every": CHECKPOINT_EVERY}


def quick_training_data(entries) -> str:
    """The data spec to train on: the label of the newest annotated source among ``entries``
    (:class:`~.sources.ImageEntry`), ``"shapes"`` when none is annotated."""
    labels = [entry.source.label for entry in entries
              if entry.source.annotated and not entry.source.label.endswith("(training)")]
    own = [label for label in labels if label not in GENERATED]
    return own[-1] if own else "shapes"
