"""Training in the viewer: a background training thread you can pause, step and watch.

Plain Python (no Qt): :mod:`.options` (what to train and how, built into a
``frcnn_core.train.Trainer``), :mod:`.loop` (the step generator and the pause/step/abort
gate), :mod:`.history` (bounded loss curves), :mod:`.snapshots` (the ring buffer of traced
steps), :mod:`.session` (the dock's state), :mod:`.metrics_log` (reading a run's
``metrics.jsonl``) and :mod:`.display` (a training step as the canvas shows it).

Qt: :mod:`.worker` (the thread that owns the trainer), :mod:`.controller` (its GUI-side
handle and the scripting API behind ``MainWindow.start_training`` and friends),
:mod:`.plots`, :mod:`.watch_view` and :mod:`.dock` (the widgets).
"""
