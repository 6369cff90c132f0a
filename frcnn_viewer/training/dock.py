"""The training dock: the run's settings, start/pause/step/stop, curves, timeline and watch image.

A view of the :class:`~.session.TrainingSession`, steering a :class:`~.controller.TrainingController`;
it holds no state beyond its widgets. Curves and numbers are redrawn at most every
:data:`REDRAW_MS` while steps arrive, so a fast run does not flood the event loop.
"""

from __future__ import annotations

import math

import torch
from PySide6 import QtCore, QtWidgets

from frcnn_core.models.backbones import BACKBONES
from frcnn_core.train import describe_device, select_device

from ..checkpoint_dialog import CHECKPOINT_FILTER, architecture_box
from ..state.document import Change
from ..state.training.options import GENERATED, TrainingOptions
from ..state.training.phases import Phase, SessionChange
from .controller import TrainingController
from .plots import TrainingPlots
from .watch_view import WatchView

REDRAW_MS = 500
PRESET = "(preset)"
ERROR_STYLE = "QLabel { background: #b3261e; color: white; padding: 3px 6px; }"


def device_choices() -> list[str]:
    """``auto`` and ``cpu``, then each CUDA device and MPS where present."""
    choices = ["auto", "cpu"]
    if torch.cuda.is_available():
        choices += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        choices.append("mps")
    return choices


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _spin(maximum: int, value: int = 0, special: str | None = PRESET) -> QtWidgets.QSpinBox:
    spin = QtWidgets.QSpinBox()
    spin.setRange(0 if special else 1, maximum)
    if special:
        spin.setSpecialValueText(special)
    spin.setValue(value)
    return spin


class TrainingDock(QtWidgets.QWidget):
    """Settings and controls on the left, curves in the middle, the watch image on the right."""

    def __init__(self, controller: TrainingController, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.session = controller.session
        self.document = controller.document
        self._watch_name = ""
        self._proposed_data = ""
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(2, 2, 2, 2)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        controls = self._build_controls()
        scroll.setWidget(controls)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # up and down only
        scroll.setMinimumWidth(controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth())
        row.addWidget(scroll)
        self.plots = TrainingPlots()
        row.addWidget(self._build_plot_column(), 3)
        self.watch_view = WatchView()
        row.addWidget(self._build_watch_column(), 1)
        self._redraw_timer = QtCore.QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self.session.changed.connect(self._session_changed)
        self.document.changed.connect(lambda aspects: Change.ENTRIES in aspects and self._fill_data_choices())
        self._fill_data_choices()
        self._device_changed()
        self._phase_changed()

    # ----- layout ---------------------------------------------------------------------
    def _build_controls(self) -> QtWidgets.QWidget:
        panel = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(panel)
        form = QtWidgets.QFormLayout()
        self.data = QtWidgets.QComboBox()
        self.data.setEditable(True)
        self.data.setToolTip("shapes, composite, a COCO JSON file, a VOC directory or a labelled image folder (its train split)")
        browse = QtWidgets.QToolButton()
        browse.setText("…")
        browse.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(browse)
        menu.addAction("VOC directory or labelled folder…", self._browse_folder)
        menu.addAction("COCO JSON file…", self._browse_coco)
        browse.setMenu(menu)
        data_row = QtWidgets.QHBoxLayout()
        data_row.addWidget(self.data, 1)
        data_row.addWidget(browse)
        form.addRow("Data", data_row)
        self.init = QtWidgets.QLineEdit()
        self.init.setObjectName("init")
        self.init.setPlaceholderText("a new model (or a checkpoint to fine-tune)")
        self.init.setToolTip("Fine-tune the detector in this file: ours, or a torchvision Faster R-CNN (state_dict or "
                             "train.py checkpoint) with torchvision's reference recipe. Empty: train a new model.")
        browse_init = QtWidgets.QToolButton()
        browse_init.setText("…")
        browse_init.clicked.connect(self._browse_init)
        init_row = QtWidgets.QHBoxLayout()
        init_row.addWidget(self.init, 1)
        init_row.addWidget(browse_init)
        form.addRow("Start from", init_row)
        self.arch = architecture_box("arch", "The torchvision builder of the file to fine-tune, when the file cannot tell")
        form.addRow("Architecture", self.arch)
        self.backbone = QtWidgets.QComboBox()
        self.backbone.addItems([PRESET, *BACKBONES])
        form.addRow("Backbone", self.backbone)
        self.image_size = _spin(4000)
        form.addRow("Image size (px)", self.image_size)
        self.iterations = _spin(10_000_000)
        form.addRow("Iterations", self.iterations)
        self.lr = QtWidgets.QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.0, 10.0)
        self.lr.setSingleStep(0.001)
        self.lr.setSpecialValueText(PRESET)
        form.addRow("Learning rate", self.lr)
        self.batch_size = _spin(256)
        form.addRow("Batch size", self.batch_size)
        self.device = QtWidgets.QComboBox()
        self.device.addItems(device_choices())
        self.device.currentTextChanged.connect(self._device_changed)
        form.addRow("Device", self.device)
        self.device_name = QtWidgets.QLabel()
        self.device_name.setObjectName("device_name")
        form.addRow("", self.device_name)
        self.trace_every = _spin(100_000, 10, special=None)
        self.trace_every.setToolTip("While running, show every K-th step on the canvas (each step is shown when stepping)")
        form.addRow("Show every K steps", self.trace_every)
        self.output_dir = QtWidgets.QLineEdit()
        self.output_dir.setPlaceholderText("new folder in ~/.cache/frcnn-viewer/runs")
        form.addRow("Run folder", self.output_dir)
        column.addLayout(form)

        buttons = QtWidgets.QGridLayout()
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.clicked.connect(self._start)
        self.pause_button = QtWidgets.QPushButton("Pause")
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.step_button = QtWidgets.QPushButton("Step")
        self.step_button.setToolTip("Run this many iterations, then pause; each one is shown on the canvas")
        self.step_button.clicked.connect(lambda: self.controller.step(self.step_count.value(), wait=False))
        self.step_count = _spin(10_000, 1, special=None)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step and write a checkpoint")
        self.stop_button.clicked.connect(lambda: self.controller.stop(wait=False))
        self.save_button = QtWidgets.QPushButton("Save checkpoint")
        self.save_button.clicked.connect(lambda: self.controller.save_checkpoint())
        self.continue_button = QtWidgets.QPushButton("Continue from…")
        self.continue_button.setToolTip("Load a training checkpoint and continue training it (on the data above)")
        self.continue_button.clicked.connect(self._continue_dialog)
        self.evaluate_button = QtWidgets.QPushButton("Evaluate (mAP)")
        self.evaluate_button.setToolTip("Score the current weights on the validation split")
        self.evaluate_button.clicked.connect(lambda: self.controller.evaluate())
        self.load_best_button = QtWidgets.QPushButton("Load best")
        self.load_best_button.setEnabled(False)
        self.load_best_button.clicked.connect(lambda: self.controller.load_best())
        self.log_button = QtWidgets.QPushButton("Open metrics log…")
        self.log_button.clicked.connect(self._open_log_dialog)
        for i, widget in enumerate((self.start_button, self.pause_button, self.stop_button)):
            buttons.addWidget(widget, 0, i)
        buttons.addWidget(self.step_button, 1, 0)
        buttons.addWidget(self.step_count, 1, 1)
        buttons.addWidget(self.save_button, 1, 2)
        buttons.addWidget(self.continue_button, 2, 0)
        buttons.addWidget(self.evaluate_button, 2, 1)
        buttons.addWidget(self.log_button, 2, 2)
        buttons.addWidget(self.load_best_button, 3, 0)
        column.addLayout(buttons)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("%v / %m")
        column.addWidget(self.progress)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("training_status")
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("training_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setVisible(False)
        column.addWidget(self.error)
        column.addStretch(1)
        return panel

    def _build_plot_column(self) -> QtWidgets.QWidget:
        widget = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(widget)
        column.setContentsMargins(0, 0, 0, 0)
        options = QtWidgets.QHBoxLayout()
        self.smoothing = _spin(10_000, 1, special=None)
        self.smoothing.setToolTip("Moving average over this many recorded steps")
        self.smoothing.valueChanged.connect(self._plot_options_changed)
        self.log_scale = QtWidgets.QCheckBox("Log scale")
        self.log_scale.toggled.connect(self._plot_options_changed)
        options.addWidget(QtWidgets.QLabel("Smoothing"))
        options.addWidget(self.smoothing)
        options.addWidget(self.log_scale)
        options.addStretch(1)
        column.addLayout(options)
        column.addWidget(self.plots, 1)
        timeline = QtWidgets.QHBoxLayout()
        self.timeline = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.timeline.setToolTip("Recorded steps: drag back to see an earlier step on the canvas; the right end follows training")
        self.timeline.valueChanged.connect(self.session.scrub)
        self.timeline_label = QtWidgets.QLabel("no recorded steps")
        self.follow = QtWidgets.QCheckBox("Show on canvas")
        self.follow.setChecked(self.controller.follow)
        self.follow.toggled.connect(self._follow_toggled)
        timeline.addWidget(QtWidgets.QLabel("Timeline"))
        timeline.addWidget(self.timeline, 1)
        timeline.addWidget(self.timeline_label)
        timeline.addWidget(self.follow)
        column.addLayout(timeline)
        return widget

    def _build_watch_column(self) -> QtWidgets.QWidget:
        widget = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(widget)
        column.setContentsMargins(0, 0, 0, 0)
        buttons = QtWidgets.QHBoxLayout()
        self.watch_button = QtWidgets.QPushButton("Watch this image")
        self.watch_button.setToolTip("Refresh the training model's proposals and detections on the image shown now")
        self.watch_button.clicked.connect(self.watch_current_image)
        self.unwatch_button = QtWidgets.QPushButton("Stop watching")
        self.unwatch_button.clicked.connect(lambda: self._watch(None, ""))
        buttons.addWidget(self.watch_button)
        buttons.addWidget(self.unwatch_button)
        column.addLayout(buttons)
        column.addWidget(self.watch_view, 1)
        self.evaluation = QtWidgets.QLabel("No evaluation yet.")
        self.evaluation.setObjectName("evaluation")
        self.evaluation.setWordWrap(True)
        column.addWidget(self.evaluation)
        return widget

    # ----- user intent ----------------------------------------------------------------
    def options(self) -> TrainingOptions:
        """The form as training options (blank fields keep the preset's values)."""
        config = {}
        if self.backbone.currentText() != PRESET:
            config["backbone"] = self.backbone.currentText()
        if self.image_size.value():
            config["image_size"] = self.image_size.value()
        if self.lr.value() > 0:
            config["lr"] = self.lr.value()
        if self.batch_size.value():
            config["batch_size"] = self.batch_size.value()
        if self.output_dir.text().strip():
            config["output_dir"] = self.output_dir.text().strip()
        if self.init.text().strip():
            config["init"] = self.init.text().strip()
            if self.arch.currentData() is not None:
                config["arch"] = self.arch.currentData()
        return TrainingOptions.from_keywords(
            self.data.currentText().strip() or "shapes", self.iterations.value() or None, self.device.currentText(),
            trace_every=self.trace_every.value(), **config,
        )

    def _start(self, resume: str | None = None) -> None:
        try:
            options = self.options()
        except ValueError as exc:
            self._show_error(f"not started: {exc}")
            return
        self.controller.start_options(options.replace(resume=resume) if resume else options, wait=False)

    def _pause_or_resume(self) -> None:
        if self.session.phase in (Phase.PAUSED, Phase.PAUSING):
            self.controller.resume()
        else:
            self.controller.pause(wait=False)

    def _continue_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Continue training from a checkpoint", "", "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self._start(resume=path)

    def _browse_init(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Fine-tune the detector in a file", self.init.text(), CHECKPOINT_FILTER)
        if path:
            self.init.setText(path)

    def _open_log_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a run's metrics log", "", "Metrics (*.jsonl);;All files (*)")
        if path:
            self.controller.open_metrics(path)

    def _browse_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Train on a VOC directory or a labelled image folder")
        if path:
            self.data.setCurrentText(path)

    def _browse_coco(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Train on a COCO JSON file", "", "COCO JSON (*.json)")
        if path:
            self.data.setCurrentText(path)

    def watch_current_image(self) -> None:
        """Watch the image shown on the canvas now."""
        doc = self.document
        if doc.image is None:
            self._show_error("open an image first, then press “Watch this image”")
            return
        self._watch(doc.image, doc.entries[doc.index].name)

    def _watch(self, image, name: str) -> None:
        self._watch_name = name
        self.watch_view.set_image(image, name)
        self.controller.watch(image)

    def _follow_toggled(self, on: bool) -> None:
        self.controller.follow = on

    def _plot_options_changed(self) -> None:
        self.plots.set_smoothing(self.smoothing.value())
        self.plots.set_log_scale(self.log_scale.isChecked())
        self.plots.show_history(self.session.history)

    def _device_changed(self) -> None:
        try:
            self.device_name.setText(describe_device(select_device(self.device.currentText())))
        except ValueError as exc:
            self.device_name.setText(str(exc))

    def _fill_data_choices(self) -> None:
        """The generated sets and every annotated source open; the newest one opened is proposed,
        unless the user chose something else than what was proposed."""
        labels = list(GENERATED)
        for source in self.document.sources:
            if source.annotated and not source.label.endswith("(training)") and source.label not in labels:
                labels.append(source.label)
        current = self.data.currentText()
        if not current or current == self._proposed_data:  # the user left the proposal alone
            opened = [label for label in labels if label not in GENERATED]
            current = opened[-1] if opened else "shapes"
            self._proposed_data = current
        blocker = QtCore.QSignalBlocker(self.data)
        self.data.clear()
        self.data.addItems(labels)
        self.data.setCurrentText(current)
        del blocker

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    # ----- session observer -----------------------------------------------------------
    def _session_changed(self, aspects: frozenset) -> None:
        session = self.session
        if SessionChange.PHASE in aspects:
            self._phase_changed()
        if SessionChange.INFO in aspects and session.info is not None:
            self.device_name.setText(session.info.device)
        if aspects & {SessionChange.HISTORY, SessionChange.VALIDATION}:
            self._redraw()
        elif SessionChange.STEP in aspects and not self._redraw_timer.isActive():
            self._redraw_timer.start()
        if aspects & {SessionChange.SNAPSHOTS, SessionChange.POSITION}:
            self._update_timeline()
        if SessionChange.WATCH in aspects and session.watch is not None and session.info is not None:
            self.watch_view.set_result(session.watch, session.info.detector, self._watch_name)
        if SessionChange.EVALUATION in aspects and session.evaluation is not None:
            report = session.evaluation
            self.evaluation.setText(
                f"Iteration {report['iteration']}: mAP@0.5 {report['map50']:.4f} (11-point {report['map50_11pt']:.4f}), "
                f"COCO AP {report['coco_ap']:.4f}, AP50 {report['coco_ap50']:.4f} on {report['images']} images"
            )
        if SessionChange.MESSAGE in aspects:
            self.error.setVisible(bool(session.message))
            self.error.setText(session.message or "")

    def _phase_changed(self) -> None:
        phase = self.session.phase
        alive = self.session.alive
        self.start_button.setEnabled(not alive)
        self.continue_button.setEnabled(not alive)
        self.log_button.setEnabled(not alive)
        self.pause_button.setEnabled(phase in (Phase.STARTING, Phase.RUNNING, Phase.PAUSING, Phase.PAUSED, Phase.STEPPING))
        self.pause_button.setText("Resume" if phase in (Phase.PAUSED, Phase.PAUSING) else "Pause")
        self.step_button.setEnabled(phase in (Phase.RUNNING, Phase.PAUSED))
        self.stop_button.setEnabled(alive and phase != Phase.STOPPING)
        for button in (self.save_button, self.evaluate_button):
            button.setEnabled(alive and phase not in (Phase.STARTING, Phase.STOPPING))
        if phase == Phase.STARTING:
            self.error.setVisible(False)
        self._redraw()

    def _redraw(self) -> None:
        """Curves, progress and the status line (throttled while steps arrive)."""
        session = self.session
        self.plots.show_history(session.history, session.validations)
        best = session.validations.best()
        self.load_best_button.setEnabled(session.best_checkpoint is not None)
        self.load_best_button.setToolTip(
            f"Load best.pt: val mAP@0.5 {best['map50']:.4f} at iteration {best['iteration']}" if best else
            "Load the checkpoint of the highest val mAP@0.5 (written at each better validation of a run with a validation set)"
        )
        total = max(session.total_iterations, 1)
        self.progress.setRange(0, total)
        self.progress.setValue(min(session.iteration, total))
        parts = [session.phase, f"iteration {session.iteration} / {session.total_iterations}"]
        if session.alive and len(session.history):
            parts.append(f"{session.iterations_per_second():.2f} it/s")
            parts.append(f"ETA {format_duration(session.eta_seconds())}")
        if session.info is not None:
            parts.append(session.info.device)
        elif session.source is not None:
            parts.append(f"metrics of {session.source}")
        if session.checkpoint:
            parts.append(f"checkpoint {session.checkpoint}")
        self.status.setText(" · ".join(parts))

    def _update_timeline(self) -> None:
        session = self.session
        count = len(session.snapshots)
        blocker = QtCore.QSignalBlocker(self.timeline)
        self.timeline.setRange(0, max(count - 1, 0))
        self.timeline.setValue(count - 1 if session.position is None else session.position)
        del blocker
        shown = session.shown()
        if shown is None:
            self.timeline_label.setText("no recorded steps")
        else:
            where = "newest" if session.position is None else f"{session.position + 1} of {count}"
            validated = shown.validation
            val = f" · val mAP@0.5 {validated.map50:.3f}{' (best so far)' if validated.best else ''}" if validated is not None else ""
            self.timeline_label.setText(f"iteration {shown.iteration}{val} ({where}; {count} kept)")
