"""The main window: canvas in the middle, panels in docks, inference in a worker thread.

The window wires the plain :class:`~frcnn_viewer.state.document.Document` to its views and to
the :class:`~frcnn_viewer.workers.InferenceClient`; it holds no state of its own beyond
widgets. Layout: images and the parameter / statistics / provenance tabs on the left,
layers on the right, messages at the bottom; the bottom and right dock areas have room
for the training dock, and the canvas for an annotation mode.

The scripting methods (:meth:`open_paths`, :meth:`load_checkpoint`, :meth:`export_detections`)
wait for the workers by running the event loop (the window keeps repainting); pass
``wait=False`` to return at once, as the menus do. Datasets open in their own thread
(:mod:`frcnn_viewer.opening`) with a progress bar.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from frcnn_core.models.reconfigure import ConfigChange
from frcnn_core.trace.stages import Stage

from .annotation.model.issues import IssueList
from .annotation.model.mode import AnnotationModel
from .annotation.view.actions import AnnotationActions
from .annotation.view.box_editor import BoxEditor
from .annotation.view.controller import AnnotationController
from .annotation.view.issues import IssuesController
from .annotation.view.issues_panel import IssuesPanel
from .annotation.view.panel import AnnotationPanel
from .annotation.view.unsaved_bar import UnsavedEditsBar
from .canvas import Canvas
from .checkpoint_dialog import CHECKPOINT_SUFFIXES, CheckpointDialog
from .garbage import collect_garbage_in_the_gui_thread
from .opening import Opened, OpeningClient
from .panels.anchor_designer import AnchorDesignerPanel
from .panels.diagnosis_panel import DiagnosisPanel
from .panels.image_list import ImageListPanel
from .panels.layer_panel import LayerPanel
from .panels.message_panel import MessagePanel
from .panels.parameter_panel import ParameterPanel
from .panels.plots_panel import PlotsPanel
from .panels.provenance_panel import ProvenancePanel
from .panels.stats_panel import StatsPanel, summary_line
from .settings import ViewerSettings
from .state.anchor_design import AnchorDesign
from .state.document import Change, Document
from .state.exporting import FORMATS
from .state.exporting import export_detections as write_detections
from .state.first_run import QUICK_TRAINING, quick_training_data
from .state.image_list import RANKED
from .state.layer_options import LayerName
from .state.models import ModelInfo, class_mismatch
from .state.named import ByName
from .state.results import ImageResult
from .training.controller import TrainingController
from .training.dock import TrainingDock
from .workers import InferenceClient
from .workspaces import DEFAULT_WINDOW_SIZE, DockId, Workspace, WorkspaceSwitcher, keep_on_screen

WAIT_TIMEOUT_MS = 600_000
FIRST_IMAGE_TRIES = 20  # images tried, from the first new one, to show after opening a set
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif *.ppm *.pgm);;All files (*)"
UNTRAINED_TEXT = (
    "Untrained model: random weights. Proposals and detections mean nothing until you train a model "
    "or load a checkpoint (File ▸ Load checkpoint). Anchors and their labels need no model and are exact."
)
QUICK_TRAIN_TEXT = "Train a quick model"
QUICK_TRAIN_TIP = ("Train the light model on the open images (or the bundled shapes when they have no labels) in the "
                   "Train workspace; the image view switches to each checkpoint as it arrives (every 100 iterations)")


class MainWindow(QtWidgets.QMainWindow):
    """The frcnn-viewer window, drivable from code.

    Args:
        settings: where to remember recent files, layout and layer settings (default: the
            user's ``QSettings("frcnn-viewer", "frcnn-viewer")``; tests pass a scratch one).

    Signals:
        trace_ready: the current image's trace arrived and is drawn.
        idle: the worker has nothing left to do.
    """

    trace_ready = QtCore.Signal()
    idle = QtCore.Signal()

    def __init__(self, settings: QtCore.QSettings | None = None, parent=None) -> None:
        super().__init__(parent)
        collect_garbage_in_the_gui_thread()
        self.setWindowTitle("frcnn-viewer")
        self.setAcceptDrops(True)
        self.document = Document()
        self.settings = ViewerSettings(settings)
        self.document.layers.restore(self.settings.layers())
        self.client = InferenceClient(self)
        self.opening = OpeningClient(self)
        self._added: dict[int, int] = {}  # open request -> images it added, until open_paths reads it
        self._class_warning: str | None = None
        self._model_line: str | None = None  # the last "model: …" line reported
        self._first_to_show: int | None = None  # the first image of a set just opened, shown on the next turn
        self.canvas = Canvas(self.document)
        self._build_central()
        self._build_docks()
        self._build_status_bar()
        self._build_actions()
        self._connect()
        self.annotation = self._build_annotation()
        self.issues = self._build_issues()
        self._place_on_screen()
        self._build_workspaces()
        self.client.use_untrained(self.document.class_names)

    # ----- layout ---------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.banner_row = QtWidgets.QFrame()
        self.banner_row.setObjectName("untrained_banner_row")
        self.banner_row.setStyleSheet("#untrained_banner_row { background: #f5c542; }")
        row = QtWidgets.QHBoxLayout(self.banner_row)
        row.setContentsMargins(0, 0, 6, 0)
        self.banner = QtWidgets.QLabel(UNTRAINED_TEXT)
        self.banner.setObjectName("untrained_banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { color: #222; padding: 4px 8px; font-weight: bold; }")
        self.quick_train_button = QtWidgets.QPushButton(QUICK_TRAIN_TEXT)
        self.quick_train_button.setToolTip(QUICK_TRAIN_TIP)
        self.quick_train_button.clicked.connect(lambda: self.train_quick_model(wait=False))
        row.addWidget(self.banner, 1)
        row.addWidget(self.quick_train_button)
        column.addWidget(self.banner_row)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

    def _dock(self, dock_id: DockId, widget: QtWidgets.QWidget, area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        """A dock around ``widget``, kept in :attr:`docks` under ``dock_id`` (its title and object name come from the id)."""
        dock = QtWidgets.QDockWidget(dock_id.title, self)
        dock.setObjectName(dock_id.object_name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[dock_id] = dock
        return dock

    def _build_docks(self) -> None:
        doc = self.document
        left, right, bottom = (QtCore.Qt.DockWidgetArea.LeftDockWidgetArea, QtCore.Qt.DockWidgetArea.RightDockWidgetArea,
                               QtCore.Qt.DockWidgetArea.BottomDockWidgetArea)
        self.image_list = ImageListPanel(doc)
        self.layer_panel = LayerPanel(doc)
        self.parameter_panel = ParameterPanel(doc)
        self.anchor_designer = AnchorDesignerPanel(doc)
        self.stats_panel = StatsPanel(doc)
        self.provenance_panel = ProvenancePanel(doc)
        self.message_panel = MessagePanel(doc)
        self.diagnosis_panel = DiagnosisPanel(doc)
        self.plots_panel = PlotsPanel(doc)
        self.training = TrainingController(doc, lambda path: self.load_checkpoint(path, wait=False), self)
        self.docks: ByName = ByName()  # DockId -> its dock (a dock id's string value finds it too)
        for dock_id, widget, area in (
            (DockId.IMAGES, self.image_list, left), (DockId.PARAMETERS, self.parameter_panel, left),
            (DockId.ANCHOR_DESIGN, self.anchor_designer, left), (DockId.STATISTICS, self.stats_panel, left),
            (DockId.PROVENANCE, self.provenance_panel, left), (DockId.LAYERS, self.layer_panel, right),
            (DockId.MESSAGES, self.message_panel, bottom), (DockId.TRAINING, TrainingDock(self.training), bottom),
            (DockId.DIAGNOSIS, self.diagnosis_panel, left), (DockId.CURVES, self.plots_panel, left),
        ):
            self._dock(dock_id, widget, area)
        # where each dock goes is the workspaces' business (frcnn_viewer.workspaces.LAYOUTS)

    def _build_annotation(self) -> AnnotationController:
        """The annotation mode: its Qt-free model over the document, the box editor on the
        canvas, its dock, actions and menu, and the controller given exactly these pieces."""
        model = AnnotationModel(self.document)
        panel = AnnotationPanel(model.classes)
        scroll = QtWidgets.QScrollArea()  # on a laptop screen the panel scrolls instead of making the window taller
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(panel)
        dock = self._dock(DockId.ANNOTATE, scroll, QtCore.Qt.DockWidgetArea.RightDockWidgetArea)
        dock.hide()
        actions = AnnotationActions(self)
        self.menuBar().addMenu(actions.menu)
        self.addToolBar(actions.toolbar)
        self.unsaved_bar = UnsavedEditsBar()
        self.centralWidget().layout().insertWidget(1, self.unsaved_bar)  # under the untrained banner, above the canvas
        return AnnotationController(model, BoxEditor(self.canvas, self), panel, dock, actions, QtGui.QUndoStack(self),
                                    show_status=self.statusBar().showMessage, title_changed=self.update_title,
                                    open_paths=lambda paths: self.open_paths(paths, wait=False), parent=self, training=self.training,
                                    unsaved_bar=self.unsaved_bar)

    def _build_issues(self) -> IssuesController:
        """The Issues list of the Annotate workspace: its Qt-free state, its dock, and the
        controller given the annotation mode, the inference client and the provenance panel."""
        panel = IssuesPanel()
        dock = self._dock(DockId.ISSUES, panel, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea)
        dock.hide()
        self.view_menu.addAction(dock.toggleViewAction())
        issues = IssueList(report=lambda text: self.document.report("warning", text))
        return IssuesController(issues, panel, self.annotation, self.client, self.provenance_panel,
                                show_provenance=lambda: self.docks[DockId.PROVENANCE].raise_(), show_box=self.canvas.show_box, parent=self)

    def _build_workspaces(self) -> None:
        """Inspect, Annotate, Train (and Diagnose): tabs in the menu bar; annotation mode follows."""
        self.workspaces = WorkspaceSwitcher(self, self.docks, self.settings, self._workspace_entered)
        self.annotation.actions.mode_toggled.connect(self._annotation_toggled)
        self.view_menu.addAction("&Reset workspace layout", self.workspaces.reset)
        self.workspaces.show(Workspace.INSPECT)  # each start in Inspect: annotation mode only when asked

    def _place_on_screen(self) -> None:
        """The remembered geometry (or 1400x900), never larger than the screen's available area."""
        geometry = self.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_WINDOW_SIZE)
        keep_on_screen(self)

    def _workspace_entered(self, workspace: Workspace) -> None:
        self.annotation.set_mode("annotate" if workspace is Workspace.ANNOTATE else "inspect")

    def _annotation_toggled(self, on: bool) -> None:
        """Ctrl+M (or :meth:`set_mode`) switches to the Annotate workspace and back to Inspect."""
        if on:
            self.workspaces.show(Workspace.ANNOTATE)
        elif self.workspaces.current is Workspace.ANNOTATE:
            self.workspaces.show(Workspace.INSPECT)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.architecture_label = QtWidgets.QLabel()  # the model's architecture: ours or torchvision's builder
        self.architecture_label.setObjectName("architecture")
        self.summary_label = QtWidgets.QLabel()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        bar.addPermanentWidget(self.architecture_label)
        bar.addPermanentWidget(self.summary_label)
        bar.addPermanentWidget(self.progress)

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcuts=()) -> QtGui.QAction:
        action = menu.addAction(text)
        action.triggered.connect(slot)
        if shortcuts:
            action.setShortcuts([QtGui.QKeySequence(s) for s in shortcuts])
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&File")
        self._action(menu, "&Open images…", self._open_images_dialog, ["Ctrl+O"])
        self._action(menu, "Open &folder…", lambda: self._open_dir_dialog("Open an image folder or a VOC directory"))
        self._action(menu, "Open &COCO JSON…", self._open_coco_dialog)
        self._action(menu, "Open the &sample set", lambda: self.open_paths(["shapes"], wait=False))
        self.recent_menu = menu.addMenu("&Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        menu.addSeparator()
        self._action(menu, "&Load checkpoint…", self._load_checkpoint_dialog, ["Ctrl+L"])
        menu.addSeparator()
        self._action(menu, "&Export detections (this image)…", lambda: self._export_dialog("current"), ["Ctrl+E"])
        self._action(menu, "Export detections (&all images)…", lambda: self._export_dialog("all"))
        self._action(menu, "Export view as &PNG…", self._export_view_dialog)
        menu.addSeparator()
        self._action(menu, "&Quit", self.close, ["Ctrl+Q"])
        menu = self.view_menu = self.menuBar().addMenu("&View")
        self._action(menu, "&Fit to window", self.canvas.fit, ["F"])
        self._action(menu, "&Actual size (1:1)", self.canvas.zoom_actual_size, ["1"])
        self._action(menu, "Zoom &in", lambda: self.canvas.zoom(1.25), ["+", "="])
        self._action(menu, "Zoom &out", lambda: self.canvas.zoom(0.8), ["-"])
        menu.addSeparator()
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())
        menu = self.menuBar().addMenu("&Image")
        self._action(menu, "&Next image", self.next_image, ["Right", "PgDown"])
        self._action(menu, "&Previous image", self.previous_image, ["Left", "PgUp"])
        self._action(menu, "&Analyse all images", self.analyse_all)
        self._action(menu, "&Cancel analysis", self.client.cancel)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar_main")
        for text, slot in (("Open", self._open_images_dialog), ("Checkpoint", self._load_checkpoint_dialog), ("◀", self.previous_image),
                           ("▶", self.next_image), ("Fit", self.canvas.fit), ("1:1", self.canvas.zoom_actual_size)):
            toolbar.addAction(text, slot)

    def _connect(self) -> None:
        doc, client, worker = self.document, self.client, self.client.worker
        doc.changed.connect(self._document_changed)
        doc.message.connect(lambda m: self.statusBar().showMessage(f"{m.level}: {m.text}", 15_000))
        worker.model_ready.connect(self._model_ready)
        worker.traced.connect(self._traced)
        worker.predicted.connect(self._predicted)
        worker.costed.connect(self._costed)
        worker.progress.connect(self._progress)
        worker.reconfigured.connect(self._model_reconfigured)
        worker.failed.connect(self._worker_failed)  # a bound method: delivered in the GUI thread
        client.busy_changed.connect(self._busy_changed)
        self.opening.opened.connect(self._opened)
        self.opening.progress.connect(self._open_progress)
        self.opening.busy_changed.connect(self._busy_changed)
        self.canvas.clicked.connect(doc.click)
        self.canvas.hovered.connect(self._hovered)
        self.image_list.analyse_requested.connect(self.analyse_all)
        self.diagnosis_panel.analyse_requested.connect(self.analyse_all)

    # ----- scripting API ---------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Whether the workers (inference, opening) have outstanding work."""
        return self.client.busy or self.opening.busy or self._first_to_show is not None

    def wait_until_idle(self, timeout_ms: int = WAIT_TIMEOUT_MS) -> bool:
        """Run the event loop until the workers are idle; ``False`` on timeout."""
        if not self.busy:
            return True
        loop = QtCore.QEventLoop()
        self.idle.connect(loop.quit)
        QtCore.QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        self.idle.disconnect(loop.quit)
        return not self.busy

    def anchor_design(self, optimise: bool = False, timeout_ms: int = WAIT_TIMEOUT_MS) -> AnchorDesign | None:
        """The anchor designer's answer for the current parameters (coverage of every GT box of
        the open images; with ``optimise`` the optimiser's search too, whose anchors then become
        the parameters). Waits, running the event loop; ``None`` on timeout."""
        panel = self.anchor_designer
        key = panel.refresh(optimise)
        loop = QtCore.QEventLoop()
        done = lambda shown: shown >= key and loop.quit()  # noqa: E731
        panel.shown.connect(done)
        QtCore.QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        panel.shown.disconnect(done)
        return panel.design if panel.design is not None and panel.design.key >= key else None

    def open_paths(self, paths: list[str | Path], wait: bool = True) -> int:
        """Open image files, folders, videos and datasets (COCO, VOC, YOLO, CVAT, labelme) or
        ``shapes`` in the opening thread, with a progress bar; show the first new image.
        Problems are reported in the window. With ``wait``, runs the event loop until they are
        open and returns the number of images added; without, returns 0 at once."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        job = self.opening.open([str(p) for p in paths], self.annotation.source_opener())
        if not wait:
            return 0
        self.opening.wait(job, WAIT_TIMEOUT_MS)
        self.wait_until_idle()
        return self._added.pop(job, 0)

    def _opened(self, opened: Opened) -> None:
        """The opening thread's answer: add its sources and show the first new image."""
        for problem in opened.problems:
            self.document.report("warning", problem)
        if not opened.sources:
            return
        names_before = self.document.class_names
        first = self.document.add_sources(opened.sources)
        self.settings.add_recent(opened.specs)
        added = self._added[opened.job] = len(self.document.entries) - first
        self.document.report("info", f"opened {added} images from {', '.join(s.label for s in opened.sources)} in {opened.seconds:.1f} s")
        if self.document.class_names != names_before:  # the worker keeps a loaded checkpoint
            self.client.use_untrained(self.document.class_names)
            self._warn_about_classes()
        self._first_to_show = first
        QtCore.QTimer.singleShot(0, self._show_first_loadable)  # the list draws first: no long stall

    def _show_first_loadable(self) -> None:
        start, self._first_to_show = self._first_to_show, None
        for index in range(start, min(start + FIRST_IMAGE_TRIES, len(self.document.entries))):
            if self.document.set_index(index):
                break
        self._busy_changed(self.busy)

    def _warn_about_classes(self) -> None:
        """Say once what a loaded checkpoint does not know of the open images' classes."""
        model = self.document.model
        # a model whose file named no classes takes the open images' (the worker says so)
        warning = class_mismatch(model.config, self.document.class_names) if model is not None and model.trained and not model.unnamed_file else None
        if warning is not None and warning != self._class_warning:
            self.document.report("warning", f"the loaded checkpoint differs from the open images: {warning}")
        self._class_warning = warning

    def set_layer_visible(self, name: LayerName | str, visible: bool) -> None:
        """Show or hide layer ``name`` (a :class:`~frcnn_viewer.state.layer_options.LayerName` or its
        value, one of :data:`frcnn_viewer.state.layer_registry.LAYER_NAMES`); an unknown name is a
        ``ValueError`` listing the layers."""
        self.document.layers[name].set_visible(visible)

    def set_layer_option(self, name: LayerName | str, key: str, value) -> None:
        """Change an option of a layer, e.g. ``("detections", "score_threshold", 0.3)`` or
        ``("anchors", "subset", "cell")``: the value becomes the option's type (an enum from its
        value); an unknown layer, option or value is a ``ValueError`` listing the valid ones."""
        self.document.layers[name].set_option(key, value)

    def set_parameters(self, **changes) -> bool:
        """Change anchor, assignment, proposal or detection settings by their ``DetectorConfig``
        field names (:data:`frcnn_viewer.state.document.PARAMETER_FIELDS`); see :meth:`Document.set_parameters`."""
        return self.document.set_parameters(**changes)

    def counts(self) -> dict:
        """The statistics of the current image (see :meth:`Document.counts`)."""
        return self.document.counts()

    def show_image(self, index: int) -> bool:
        return self.document.set_index(index)

    def next_image(self) -> bool:
        return self.document.step(1)

    def previous_image(self) -> bool:
        return self.document.step(-1)

    def load_checkpoint(self, path: str | Path, wait: bool = True, arch: str | None = None) -> bool:
        """Load a checkpoint in the worker: ours, or a torchvision Faster R-CNN's file (a
        ``state_dict`` or the reference ``train.py`` checkpoint; ``arch``, one of torchvision's
        builder names, when the file cannot tell which). A file without class names takes the
        open images' when they are as many (said in the messages). A bad one is reported and
        the current model stays. With ``wait``, returns whether it was loaded."""
        before = self.document.model
        self.client.load_checkpoint(str(path), arch, self.document.class_names)
        if not wait:
            return True
        self.wait_until_idle()
        model = self.document.model
        return model is not before and model is not None and model.checkpoint == str(path)

    def analyse_all(self, wait: bool = False) -> None:
        """Run the model on every image without results, or whose diagnosis was made at other
        settings (for sorting by errors, the diagnosis panel and exporting)."""
        stale = set(self.document.stale_diagnoses())
        missing = [(i, e) for i, e in enumerate(self.document.entries) if i not in self.document.results or i in stale]
        if missing and self.document.model is not None and not self.client.predicting:
            self.progress.setRange(0, len(missing))
            self.progress.setValue(0)
            self.client.predict(self.document.results_key, missing, self.document.inference_changes(), self.document.diagnosis_settings)
        if wait:
            self.wait_until_idle()

    def diagnose(self, wait: bool = True, iou: float = 0.5, score_threshold: float = 0.5) -> dict | None:
        """Why was each GT box missed, what is each false positive: diagnose every image at
        ``iou`` and ``score_threshold`` (in the worker, as "Analyse all") and return the report
        ``frcnn diagnose --json`` writes (:func:`frcnn_core.evaluation.diagnose.diagnosis_report`) over the
        images with GT, its ``"dap"`` (what fixing each error is worth) added up in the worker
        too. With ``wait=False`` it only starts (the Diagnosis panel shows the counts and the
        costs when done) and returns ``None``; bad settings are reported and return ``None``."""
        if not self.document.set_diagnosis_settings(iou, score_threshold):
            return None
        self.analyse_all(wait=wait)
        return self.document.diagnosis_report() if wait else None

    def export_detections(self, path: str | Path, scope: str = "current", format: str = "coco") -> Path | None:
        """Write detections JSON (``format`` ``"coco"`` or ``"rich"``, as ``frcnn detect``) for the
        current image (``scope="current"``) or every image (``"all"``). Returns the path, or ``None``
        (with a message) when there is nothing to export."""
        doc = self.document
        if format not in FORMATS or scope not in ("current", "all"):
            doc.report("error", f"export: unknown format {format!r} or scope {scope!r}")
            return None
        self.wait_until_idle()
        if scope == "current":
            if doc.trace is None:
                doc.report("error", "export: no detections yet (open an image first)")
                return None
            items = [(doc.entries[doc.index], ImageResult(doc.trace.detections, doc.image.display_scale, doc.matching))]
        else:
            self.analyse_all(wait=True)
            items = [(e, doc.results[i]) for i, e in enumerate(doc.entries) if i in doc.results]
            if not items:
                doc.report("error", "export: no detections (no image could be analysed)")
                return None
        try:
            written = write_detections(path, items, doc.model, format)
        except (OSError, ValueError) as exc:
            doc.report("error", f"export to {path} failed: {exc}")
            return None
        doc.report("info", f"{sum(len(r.detections) for _, r in items)} detections of {len(items)} images written to {written}")
        return written

    def export_view(self, path: str | Path) -> Path | None:
        """Save the canvas as it is on screen to a PNG file."""
        path = Path(path)
        if not self.canvas.grab().save(str(path), "PNG"):
            self.document.report("error", f"could not write {path}")
            return None
        return path

    # ----- training: self.training (TrainingController) does it and has the signals ----
    def start_training(self, data: str | Path = "shapes", iterations: int | None = None, device: str = "auto", wait: bool = True, **config) -> bool:
        """Train on ``data`` in a background thread; ``config``: TrainConfig / DetectorConfig fields,
        ``image_size``, ``num_images``, ``output_dir``, ``resume``… With ``wait``, returns whether it started."""
        return self.training.start(data, iterations, device, wait=wait, **config)

    def train_quick_model(self, wait: bool = True, **config) -> bool:
        """The banner's one click: in the Train workspace, train the light model (``cpu`` preset)
        on the newest annotated images open, or on ``shapes`` when none has labels; each
        checkpoint (every 100 iterations) replaces the model the canvas shows. ``config``
        overrides the settings as for :meth:`start_training`."""
        data = quick_training_data(self.document.entries)
        self.workspaces.show(Workspace.TRAIN)
        settings = {"iterations": None, "device": "auto", **QUICK_TRAINING, **config}
        return self.training.start(data, settings.pop("iterations"), settings.pop("device"), wait=wait, **settings)

    def pause_training(self, wait: bool = True) -> bool:
        return self.training.pause(wait)

    def resume_training(self) -> None:
        self.training.resume()

    def step_training(self, n: int = 1, wait: bool = True) -> int:
        return self.training.step(n, wait)

    def stop_training(self, wait: bool = True) -> str | None:
        return self.training.stop(wait)

    def training_state(self):
        return self.training.state()

    def set_mode(self, mode: str) -> None:
        """``"annotate"``: the mouse draws and edits GT boxes (see :mod:`frcnn_viewer.annotation.view`);
        ``"inspect"``: it picks feature cells and detections."""
        self.annotation.set_mode(mode)

    @property
    def current_class(self) -> str | None:
        """The class new boxes get (setting an unknown name adds it to the class list)."""
        return self.annotation.current_class

    @current_class.setter
    def current_class(self, name: str) -> None:
        self.annotation.current_class = name

    def save_annotations(self) -> Path | None:
        """Write the current image's VOC XML (beside the image, or in the chosen annotation
        folder) and return its path; ``None``, with a message, when it cannot be saved."""
        return self.annotation.save()

    def restore_unsaved_edits(self) -> int:
        """Put back, as undoable edits on their image in annotation mode, the annotation edits a
        session that ended without saving (a crash, a kill) had made: every edit is journaled
        beside the annotation files as it happens (see :mod:`frcnn_viewer.annotation.model.journal`).
        Returns how many; save to keep them. One image per call when several have some (the bar
        above the canvas offers the same, and names them)."""
        return self.annotation.restore_unsaved_edits()

    # ----- labelling with the model: self.annotation (AnnotationController) does it ------
    def suggestions(self) -> dict:
        """The current image's suggestions shown in annotation mode, best first: ``boxes``
        (displayed pixels), ``file_boxes``, ``labels``, ``scores`` (see :meth:`AnnotationController.suggestions`)."""
        return self.annotation.suggestions()

    def accept_suggestions(self, min_score: float = 0.5) -> int:
        """Accept every suggestion scoring at least ``min_score`` as GT boxes (one undo step);
        returns how many were accepted."""
        return self.annotation.accept_all_suggestions(min_score)

    def reject_suggestion(self, index: int) -> bool:
        """Reject suggestion ``index`` of :meth:`suggestions` (undoable)."""
        return self.annotation.reject_suggestion(int(self.annotation.suggestions()["rows"][index]))

    def sort_images(self, key: str) -> None:
        """Sort the image lists by ``key`` (``"order"``, ``"missed"``, ``"false_positives"``, ``"ap"``,
        ``"uncertainty"``); the annotation dock's list follows the labelling order with
        ``"uncertainty"``. Sorting by the model's results runs "analyse all" for the images without."""
        sorts = {"order": None, **{ranked_key: column for column, (ranked_key, _worst_descending) in RANKED.items()}}
        if key not in sorts:
            raise ValueError(f"unknown sort key {key!r}; valid: {', '.join(sorts)}")
        column = sorts[key]
        self.image_list.sort_by(column, descending=column is not None and RANKED[column][1])  # asks for "analyse all" when needed
        self.annotation.set_labelling_order(key == "uncertainty")

    def next_unlabelled(self) -> bool:
        """Show the image to label next: the first without an annotation file in the labelling
        order (the model's most uncertain first); ``False`` when there is none."""
        return self.annotation.next_unlabelled()

    # ----- the labels that are wrong: self.issues (IssuesController) does it ------------------
    def find_label_issues(self, wait: bool = True) -> list[dict] | None:
        """Search every open image's labels for likely mistakes with the trained model shown, in
        the worker (the Issues list of the Annotate workspace; the rule of ``frcnn label-errors``).
        With ``wait``, returns the issues listed, best first, as ``{"file_name", "kind", "score",
        "label", "box", "suggested_label", "suggested_box"}`` (file pixels; ``file_name`` the
        image's name); ``None`` without a trained model (reported)."""
        if not self.issues.find():
            return None
        if not wait:
            return []
        self.wait_until_idle()
        return [issue.to_json() for issue in self.issues.shown()]

    def apply_issue(self, index: int) -> bool:
        """Apply the fix of issue ``index`` of the list (as :meth:`find_label_issues` returns them)
        as one undoable edit of its image (Enter in the list); returns whether it was applied."""
        return self.issues.apply(self.issues.shown()[index])

    def dismiss_issue(self, index: int) -> bool:
        """Dismiss issue ``index`` of the list for good (Delete in the list): it is kept in
        ``.frcnn-dismissed.json`` beside the annotations; returns whether that file was written."""
        return self.issues.dismiss(self.issues.shown()[index])

    def update_title(self) -> None:
        """Image name, position and a ``*`` while annotations are unsaved."""
        doc = self.document
        where = f"{doc.entries[doc.index].name} ({doc.index + 1}/{len(doc.entries)}) - " if doc.image is not None else ""
        self.setWindowTitle(f"{'*' if self.annotation.dirty else ''}{where}frcnn-viewer")

    # ----- document and worker events -------------------------------------------------
    def _document_changed(self, aspects: frozenset) -> None:
        self.annotation.document_changed(aspects)  # first: it may replace the GT the trace uses
        doc = self.document
        if aspects & {Change.IMAGE, Change.PROPOSALS, Change.MODEL} and doc.image is not None:
            request = doc.trace_request()
            if request is not None:
                self.client.trace(request)
        if Change.IMAGE in aspects and doc.image is not None:
            self.update_title()
        if Change.MODEL in aspects:
            self.banner_row.setVisible(not (doc.model and doc.model.trained))
        if Change.CLASSES in aspects:  # a class added while annotating: the untrained model learns its name
            self.client.use_untrained(doc.class_names)
        if Change.SELECTION in aspects and doc.selected_detection is not None:
            self.docks[DockId.PROVENANCE].raise_()
        if Change.DIAGNOSIS in aspects and doc.stale_diagnoses():  # new settings: diagnose the list again
            self.analyse_all()
        if aspects & {Change.RESULTS, Change.DIAGNOSIS, Change.MODEL}:
            request = doc.costs_request()  # None when the diagnosed list did not change
            if request is not None:
                self.client.error_costs(*request)
        self._update_summary()

    def _update_summary(self) -> None:
        self.summary_label.setText(summary_line(self.document.counts()))

    def _model_ready(self, info: ModelInfo) -> None:
        """A loaded checkpoint is always reported; the untrained model only once (it is rebuilt,
        with the same description, each time the open images bring new class names)."""
        self.document.set_model(info)
        self.architecture_label.setText(info.architecture)
        line = f"model: {info.describe()}"
        if info.trained or line != self._model_line:
            self.document.report("info", line)
        self._model_line = line
        for note in info.notes:
            self.document.report("info", note)
        self._warn_about_classes()

    def _traced(self, key: int, trace) -> None:
        if self.document.set_trace(key, trace):
            self.trace_ready.emit()

    def _predicted(self, key: int, results: dict) -> None:
        self.document.set_results(key, results)
        self.progress.setRange(0, 0)
        if self.document.stale_diagnoses():  # the settings changed while the list was analysed
            self.analyse_all()

    def _costed(self, key: int, costs) -> None:
        self.document.set_costs(key, costs)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.statusBar().showMessage(f"analysing images: {done}/{total}", 2000)

    def _open_progress(self, what: str, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.statusBar().showMessage(f"{what}: {100 * done // total} %" if total else f"{what} …", 2000)

    def _model_reconfigured(self, change: ConfigChange) -> None:
        """The model says its settings changed (a parameter edit reached it): which, and what re-runs."""
        stages = ", ".join(stage.value for stage in Stage if stage in change.stale)
        self.document.report("info", f"model settings: {change.describe()} (re-runs {stages})")

    def _worker_failed(self, text: str) -> None:
        self.document.report("error", text)

    def _busy_changed(self, _busy: bool) -> None:
        self.progress.setVisible(self.busy)
        if not self.busy:
            self.progress.setRange(0, 0)
            self.idle.emit()

    def _hovered(self, x: float, y: float) -> None:
        doc = self.document
        self.statusBar().showMessage(doc.describe_point(x, y))
        self.canvas.setToolTip(doc.describe_diagnosis(x, y) or "")
        anchor = doc.hovered_anchor(x, y)
        if anchor is None:
            self.canvas.set_hover(np.zeros((0, 4)))
        else:
            state = doc.anchor_state
            self.canvas.set_hover(np.stack((state.anchors[anchor], state.gt_boxes[state.matched_gt[anchor]])))

    # ----- dialogs (thin wrappers over the scripting API) ------------------------------
    def _open_images_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Open images", "", IMAGE_FILTER)
        if paths:
            self.open_paths(paths, wait=False)

    def _open_dir_dialog(self, title: str) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, title)
        if path:
            self.open_paths([path], wait=False)

    def _open_coco_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a COCO JSON file", "", "COCO JSON (*.json)")
        if path:
            self.open_paths([path], wait=False)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files():
            self.recent_menu.addAction(path, lambda p=path: self.open_paths([p], wait=False))

    def _load_checkpoint_dialog(self) -> None:
        dialog = CheckpointDialog(self)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted and dialog.path():
            self.load_checkpoint(dialog.path(), wait=False, arch=dialog.arch())

    def _export_dialog(self, scope: str) -> None:
        path, chosen = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export detections", "detections.json", "COCO results (*.json);;Rich per-image JSON (*.json)"
        )
        if path:
            self.export_detections(path, scope, "rich" if chosen.startswith("Rich") else "coco")

    def _export_view_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export view", "view.png", "PNG (*.png)")
        if path:
            self.export_view(path)

    # ----- Qt events --------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        """Dropped checkpoints (``.pt``, ``.pth``) are loaded as the model; anything else is opened."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        checkpoints = [p for p in paths if Path(p).suffix.lower() in CHECKPOINT_SUFFIXES]
        for path in checkpoints:
            self.load_checkpoint(path, wait=False)
        others = [p for p in paths if p not in checkpoints]
        if others:
            self.open_paths(others, wait=False)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous():  # shown by the program, not restored from the task bar
            keep_on_screen(self)  # now with its frame

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.annotation.resolve_unsaved("close"):
            event.ignore()
            return
        self.workspaces.save()
        self.settings.save_window(self.saveGeometry())
        self.settings.save_layers(self.document.layers.state())
        self.settings.sync()
        self.training.shutdown()
        self.image_list.shutdown()
        self.opening.shutdown()
        self.client.shutdown()
        self.anchor_designer.shutdown()
        super().closeEvent(event)
