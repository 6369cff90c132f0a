"""Workspaces: *Inspect*, *Annotate*, *Train* and *Diagnose* as modes of one window.

A workspace is a set of docks (identified by :class:`DockId`) and where they go by default;
the :class:`WorkspaceSwitcher` shows them as tabs in the menu bar's corner, hides the docks a
workspace does not use, and remembers each workspace's own arrangement
(``QMainWindow.saveState``) in the viewer's settings. The default arrangements fit a 1366×768
screen. A dock joins a workspace by its id: list it in :data:`LAYOUTS`, or call
:meth:`WorkspaceSwitcher.add_dock` once the dock exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from PySide6 import QtCore, QtWidgets

from .annotation.model.mode import parse_enum
from .settings import ViewerSettings

# bump when the default layouts or the docks' object names change, so that arrangements saved by an
# older version are dropped
LAYOUT_VERSION = 6
DEFAULT_WINDOW_SIZE = QtCore.QSize(1400, 900)

Area = QtCore.Qt.DockWidgetArea
Corner = QtCore.Qt.Corner
LEFT, RIGHT, BOTTOM = Area.LeftDockWidgetArea, Area.RightDockWidgetArea, Area.BottomDockWidgetArea


class Workspace(Enum):
    """The modes of the window, in tab order."""

    INSPECT = "inspect"  # anchors, proposals, detections and the parameters that make them
    ANNOTATE = "annotate"  # draw and edit GT boxes
    TRAIN = "train"  # train a model and watch it learn
    DIAGNOSE = "diagnose"  # why the model misses what it misses

    @property
    def title(self) -> str:
        return self.value.capitalize()


class DockId(Enum):
    """Every dock of the window, with its title. The window keeps its docks by these ids
    (``window.docks``), the workspaces place them by these ids, and a dock's ``objectName``
    (what a saved arrangement knows it by) is ``dock_<value>``."""

    IMAGES = ("images", "Images")
    PARAMETERS = ("parameters", "Parameters")
    ANCHOR_DESIGN = ("anchor_design", "Anchor coverage")
    STATISTICS = ("statistics", "Statistics")
    PROVENANCE = ("provenance", "Provenance")
    LAYERS = ("layers", "Layers")
    MESSAGES = ("messages", "Messages")
    TRAINING = ("training", "Training")
    DIAGNOSIS = ("diagnosis", "Diagnosis")
    CURVES = ("curves", "Curves")
    ANNOTATE = ("annotate", "Annotate")
    ISSUES = ("issues", "Issues")

    def __new__(cls, value: str, title: str) -> DockId:
        member = object.__new__(cls)
        member._value_ = value
        member.title = title
        return member

    @property
    def object_name(self) -> str:
        return f"dock_{self.value}"


@dataclass(frozen=True)
class DockPlace:
    """Where a workspace puts a dock by default.

    Attributes:
        dock: the dock.
        area: the dock area it goes to.
        width, height: its size in pixels (0: Qt's choice); the width counts in the left and
            right areas, the height for docks stacked in one area and in the bottom area.
        tab_with: a dock placed before it that it shares tabs with.
    """

    dock: DockId
    area: Area
    width: int = 0
    height: int = 0
    tab_with: DockId | None = None


# The default arrangements, sized for a 1366x768 screen: left and right docks take the full
# height (the bottom area spans the canvas only), except in Train, whose dock spans the window.
LAYOUTS: dict[Workspace, tuple[DockPlace, ...]] = {
    Workspace.INSPECT: (
        DockPlace(DockId.IMAGES, LEFT, width=290, height=170),
        DockPlace(DockId.PARAMETERS, LEFT, height=430),
        DockPlace(DockId.ANCHOR_DESIGN, LEFT, tab_with=DockId.PARAMETERS),
        DockPlace(DockId.STATISTICS, LEFT, tab_with=DockId.PARAMETERS),
        DockPlace(DockId.PROVENANCE, LEFT, tab_with=DockId.PARAMETERS),
        DockPlace(DockId.LAYERS, RIGHT, width=270),
        DockPlace(DockId.MESSAGES, BOTTOM, height=70),
    ),
    Workspace.ANNOTATE: (
        DockPlace(DockId.IMAGES, LEFT, width=260, height=250),
        DockPlace(DockId.ISSUES, LEFT, height=400),
        DockPlace(DockId.ANNOTATE, RIGHT, width=400, height=400),  # its form's minimum width: no clipped fields
        DockPlace(DockId.LAYERS, RIGHT, tab_with=DockId.ANNOTATE),
        DockPlace(DockId.PROVENANCE, RIGHT, height=260),  # the evidence of the issue looked at
        DockPlace(DockId.MESSAGES, BOTTOM, height=70),
    ),
    Workspace.TRAIN: (
        DockPlace(DockId.IMAGES, LEFT, width=220),
        DockPlace(DockId.LAYERS, RIGHT, width=250),
        DockPlace(DockId.TRAINING, BOTTOM, height=320),
        DockPlace(DockId.MESSAGES, BOTTOM, tab_with=DockId.TRAINING),
    ),
    Workspace.DIAGNOSE: (
        DockPlace(DockId.IMAGES, LEFT, width=220),
        DockPlace(DockId.DIAGNOSIS, RIGHT, width=560),  # the funnel and both dAP charts readable at 1366 px
        DockPlace(DockId.CURVES, RIGHT, tab_with=DockId.DIAGNOSIS),
        DockPlace(DockId.LAYERS, RIGHT, tab_with=DockId.DIAGNOSIS),
        DockPlace(DockId.MESSAGES, BOTTOM, height=70),
    ),
}
# The bottom corners go to the side areas (the bottom docks span the canvas) or to the bottom area.
SIDE_CORNERS = {Corner.BottomLeftCorner: LEFT, Corner.BottomRightCorner: RIGHT}
WIDE_BOTTOM_CORNERS = {Corner.BottomLeftCorner: BOTTOM, Corner.BottomRightCorner: BOTTOM}
CORNERS = {Workspace.INSPECT: SIDE_CORNERS, Workspace.ANNOTATE: SIDE_CORNERS, Workspace.TRAIN: WIDE_BOTTOM_CORNERS,
           Workspace.DIAGNOSE: SIDE_CORNERS}
# A workspace is offered only once this dock exists (the others always are).
REQUIRED_DOCK = {Workspace.DIAGNOSE: DockId.DIAGNOSIS}


def fit_to_screen(wanted: QtCore.QSize, available: QtCore.QRect) -> QtCore.QRect:
    """The window rectangle of size ``wanted`` shrunk to the screen's ``available`` area and
    centred in it."""
    size = wanted.boundedTo(available.size())
    rect = QtCore.QRect(QtCore.QPoint(0, 0), size)
    rect.moveCenter(available.center())
    return rect


def keep_on_screen(window: QtWidgets.QWidget) -> None:
    """Shrink and move ``window`` so that its frame lies in its screen's available area (the frame
    is known once the window is shown: call it again then)."""
    available = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if available.contains(frame):
        return
    margins = frame.size() - window.size()
    outer = fit_to_screen(frame.size(), available)
    window.resize(outer.size() - margins)
    window.move(outer.topLeft())


class WorkspaceSwitcher(QtCore.QObject):
    """The tab bar that switches ``window`` between workspaces.

    Args:
        window: the main window whose docks are arranged.
        docks: the window's docks by id (read at each switch: a dock added later is found).
        settings: where each workspace's arrangement is kept.
        entered: called with each workspace entered (the window sets the annotation mode).

    Signals:
        changed(Workspace): a workspace was entered.
    """

    changed = QtCore.Signal(object)

    def __init__(self, window: QtWidgets.QMainWindow, docks: Mapping[DockId, QtWidgets.QDockWidget], settings: ViewerSettings,
                 entered: Callable[[Workspace], None] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self._docks = docks
        self.settings = settings
        self.entered = entered
        self.layouts = {workspace: list(places) for workspace, places in LAYOUTS.items()}
        self.current: Workspace | None = None
        self.tabs = QtWidgets.QTabBar()
        self.tabs.setObjectName("workspace_tabs")
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        self.tabs.setToolTip("Workspaces: each shows the panels it needs and remembers how you arranged them")
        for workspace in Workspace:
            index = self.tabs.addTab(workspace.title)
            self.tabs.setTabData(index, workspace.value)
        self._update_offered()
        self.tabs.currentChanged.connect(self._tab_changed)
        window.menuBar().setCornerWidget(self.tabs, Corner.TopRightCorner)

    # ----- docks ----------------------------------------------------------------------------
    def docks(self) -> dict[DockId, QtWidgets.QDockWidget]:
        """The window's docks by id."""
        return dict(self._docks)

    def add_dock(self, workspace: Workspace | str, place: DockPlace) -> None:
        """Make the dock ``place.dock`` part of ``workspace`` by default (placed as ``place`` says)."""
        workspace = parse_enum(Workspace, workspace)
        self.layouts[workspace] = [p for p in self.layouts[workspace] if p.dock != place.dock] + [place]
        self._update_offered()
        if workspace is self.current:
            self.reset()

    def offered(self) -> list[Workspace]:
        """The workspaces shown as tabs: those whose required dock exists."""
        names = self.docks()
        return [w for w in Workspace if w not in REQUIRED_DOCK or REQUIRED_DOCK[w] in names]

    def _update_offered(self) -> None:
        offered = self.offered()
        for index in range(self.tabs.count()):
            self.tabs.setTabVisible(index, Workspace(self.tabs.tabData(index)) in offered)

    # ----- switching --------------------------------------------------------------------------
    def show(self, workspace: Workspace | str) -> None:
        """Enter ``workspace``: keep the arrangement of the one left, show this one's (its saved
        arrangement, or the default), and tell ``entered``."""
        workspace = parse_enum(Workspace, workspace)
        if workspace is self.current:
            return
        if workspace not in self.offered():
            raise ValueError(f"the {workspace.title} workspace is not available (its {REQUIRED_DOCK[workspace].title} dock is missing)")
        self.save()
        self.current = workspace
        blocker = QtCore.QSignalBlocker(self.tabs)
        self.tabs.setCurrentIndex(list(Workspace).index(workspace))
        del blocker
        self._arrange(workspace)
        if self.entered is not None:
            self.entered(workspace)
        self.changed.emit(workspace)

    def save(self) -> None:
        """Remember the current workspace's arrangement (called when leaving it and on close)."""
        if self.current is not None:
            self.settings.qsettings.setValue(self._key(self.current), self.window.saveState(LAYOUT_VERSION))

    def reset(self) -> None:
        """Put the current workspace's docks back where they are by default."""
        if self.current is not None:
            self.settings.qsettings.remove(self._key(self.current))
            self._apply_default(self.current)

    def _tab_changed(self, index: int) -> None:
        self.show(Workspace(self.tabs.tabData(index)))

    @staticmethod
    def _key(workspace: Workspace) -> str:
        return f"workspaces/{workspace.value}/state"

    def _arrange(self, workspace: Workspace) -> None:
        wanted = {place.dock for place in self.layouts[workspace]}
        for name, dock in self.docks().items():
            if name not in wanted:  # docks the saved arrangement does not know stay out of it
                dock.hide()
        self._set_corners(workspace)
        for bar in self._tab_bars():  # the window shows again those its new arrangement uses
            bar.hide()
        saved = self.settings.qsettings.value(self._key(workspace))
        if saved is None or not self.window.restoreState(saved, LAYOUT_VERSION):
            self._apply_default(workspace)
        self.window.layout().activate()
        self._hide_stale_tab_bars()

    def _tab_bars(self) -> list[QtWidgets.QTabBar]:
        """The tab bars of tabbed docks, oldest first."""
        return self.window.findChildren(QtWidgets.QTabBar, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)

    def _hide_stale_tab_bars(self) -> None:
        """``restoreState`` and ``tabifyDockWidget`` can leave the tab bar of the arrangement they
        replace on screen (Qt retires it only at the next drag), drawn over the new one: hide a
        tab bar when a newer one sits on it."""
        shown = [bar for bar in self._tab_bars() if bar.isVisible()]
        for i, bar in enumerate(shown):
            if any(bar.geometry().intersects(newer.geometry()) for newer in shown[i + 1:]):
                bar.hide()

    def _set_corners(self, workspace: Workspace) -> None:
        for corner, area in CORNERS[workspace].items():
            self.window.setCorner(corner, area)

    def _apply_default(self, workspace: Workspace) -> None:
        window, docks = self.window, self.docks()
        places = [place for place in self.layouts[workspace] if place.dock in docks]
        shown = {place.dock for place in places}
        for name, dock in docks.items():
            if name not in shown:
                dock.hide()
        self._set_corners(workspace)
        placed: set[str] = set()
        for place in places:
            dock = docks[place.dock]
            dock.setFloating(False)
            if place.tab_with in placed:
                window.tabifyDockWidget(docks[place.tab_with], dock)
            else:
                window.addDockWidget(place.area, dock)
            dock.show()
            placed.add(place.dock)
        for place in places:
            if place.tab_with is None:
                docks[place.dock].raise_()
        horizontal, vertical = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical
        wide = [(docks[p.dock], p.width) for p in places if p.width and p.tab_with is None]
        tall = [(docks[p.dock], p.height) for p in places if p.height and p.tab_with is None]
        if wide:
            window.resizeDocks([d for d, _ in wide], [w for _, w in wide], horizontal)
        if tall:
            window.resizeDocks([d for d, _ in tall], [h for _, h in tall], vertical)
