"""The training dock's plain state: what to train (options), the gate between steps (loop),
the run's phase, curves, recorded steps and metrics log (session, history, snapshots,
metrics_log), and how a step's image is shown (display). No Qt here."""
