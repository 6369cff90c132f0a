"""The class list of the annotation mode: names in order, a colour each, the default class.

Plain Python (no Qt). The names are not kept here: they live in a :class:`ClassNames`
store, which in the window is the :class:`~frcnn_viewer.state.document.Document` itself
(``class_names`` and ``set_class_names``), so a class added, renamed or removed while
annotating is at once one of the document's classes, the untrained model's and the
traced target's (one list, not a copy that drifts). Without a store the list keeps its
names in an :class:`OwnClassNames` of its own.

``changed`` is emitted with no arguments after every change of the names, the colours
or the default (and by :meth:`ClassList.refresh` when the store changed behind the list's
back, e.g. when a dataset brought classes). Number key ``k`` picks ``names[k - 1]``; new
boxes get :attr:`ClassList.default`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ...state.events import Event

RGB = tuple[int, int, int]
UNLISTED_COLOUR: RGB = (180, 180, 180)

# Distinct, saturated colours that read on photos, cycled when there are more classes; red
# comes last because the ground-truth layer flags boxes without a positive anchor in red.
PALETTE: tuple[RGB, ...] = (
    (64, 160, 255), (64, 220, 96), (255, 200, 0), (200, 90, 255), (0, 220, 220), (255, 128, 32),
    (255, 96, 200), (160, 220, 0), (120, 120, 255), (255, 255, 128), (0, 160, 120), (255, 64, 64),
)


class ClassNames(Protocol):
    """Where the class names are stored (the document is one)."""

    class_names: tuple[str, ...]

    def set_class_names(self, names: Sequence[str]) -> None: ...


@dataclass
class OwnClassNames:
    """A store of class names that belongs to one class list alone."""

    class_names: tuple[str, ...] = ()

    def set_class_names(self, names: Sequence[str]) -> None:
        self.class_names = tuple(names)


class ClassList:
    """Class names in display order (read from ``store``), a colour each, the class new boxes get.

    Args:
        names: names to add (those not in the store yet), in order.
        store: where the names live (default: a store of this list's own).
    """

    def __init__(self, names: Iterable[str] = (), store: ClassNames | None = None) -> None:
        self.store: ClassNames = store if store is not None else OwnClassNames()
        self.colours: dict[str, RGB] = {}
        self._default: str | None = None
        self._seen: tuple[str, ...] = ()  # the store's names when ``changed`` was last emitted
        self.changed = Event()
        self.extend(names)
        self._seen = self.store.class_names

    # ----- reading ------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return list(self.store.class_names)

    def __contains__(self, name: object) -> bool:
        return name in self.store.class_names

    def __len__(self) -> int:
        return len(self.store.class_names)

    @property
    def default(self) -> str | None:
        """The class of new boxes: the chosen one while it is listed, else the first class."""
        if self._default in self:
            return self._default
        return self.store.class_names[0] if self.store.class_names else None

    def colour(self, name: str) -> RGB:
        """The colour of ``name`` (grey for a name not in the list)."""
        if name not in self:
            return UNLISTED_COLOUR
        self._colour_new_names()
        return self.colours[name]

    def by_number(self, number: int) -> str | None:
        """The class of number key ``number`` (1-based), if there is one."""
        names = self.store.class_names
        return names[number - 1] if 1 <= number <= len(names) else None

    # ----- changing -----------------------------------------------------------------------
    def add(self, name: str) -> str:
        """Append ``name`` (stripped) with the next palette colour; returns it.

        Raises:
            ValueError: the name is empty or already in the list.
        """
        name = self._valid(name)
        self._set_names([*self.names, name])
        return name

    def extend(self, names: Iterable[str]) -> None:
        """Append the names not yet listed (e.g. the labels found in an annotation file)."""
        listed = self.names
        for name in names:
            if name and name not in listed:
                listed.append(name)
        if len(listed) != len(self):
            self._set_names(listed)

    def rename(self, old: str, new: str) -> None:
        """Rename a class in place, keeping its number key, its colour and its default status."""
        if old not in self:
            raise ValueError(f"no class {old!r}")
        new = self._valid(new)
        names = self.names
        names[names.index(old)] = new
        self._colour_new_names()
        self.colours[new] = self.colours.pop(old)
        if self._default == old:
            self._default = new
        self._set_names(names)

    def remove(self, name: str) -> None:
        if name not in self:
            raise ValueError(f"no class {name!r}")
        self.colours.pop(name, None)
        self._set_names([n for n in self.names if n != name])

    def set_colour(self, name: str, colour: RGB) -> None:
        colour = tuple(int(c) for c in colour[:3])
        if name not in self or not all(0 <= c <= 255 for c in colour):
            raise ValueError(f"cannot colour class {name!r} with {colour}")
        self._colour_new_names()
        self.colours[name] = colour
        self.changed.emit()

    def set_default(self, name: str) -> None:
        """Make ``name`` the class of new boxes, adding it to the list if needed."""
        if name not in self:
            self._default = self._valid(name)
            self._set_names([*self.names, self._default])
            return
        self._default = name
        self.changed.emit()

    def refresh(self) -> None:
        """Announce names the store gained or lost without this list (a dataset's classes)."""
        if self.store.class_names != self._seen:
            self._seen = self.store.class_names
            self.changed.emit()

    # ----- inside -------------------------------------------------------------------------
    def _valid(self, name: str) -> str:
        name = str(name).strip()
        if not name:
            raise ValueError("a class name cannot be empty")
        if name in self:
            raise ValueError(f"class {name!r} exists already")
        return name

    def _set_names(self, names: list[str]) -> None:
        self.store.set_class_names(names)
        self._seen = self.store.class_names
        self._colour_new_names()
        self.changed.emit()

    def _colour_new_names(self) -> None:
        """Give each listed name without a colour the first palette colour still unused (cycling
        when all are taken), in list order, so colours do not depend on when they are asked for."""
        for name in self.store.class_names:
            if name not in self.colours:
                used = set(self.colours.values())
                fresh = [c for c in PALETTE if c not in used]
                self.colours[name] = fresh[0] if fresh else PALETTE[len(self.colours) % len(PALETTE)]
