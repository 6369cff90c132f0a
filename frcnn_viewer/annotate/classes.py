"""The class list of the annotation mode: names in order, a colour each, the default class.

Plain Python (no Qt). ``changed`` is emitted with no arguments after every change.
Number key ``k`` picks ``names[k - 1]``; new boxes get :attr:`ClassList.default`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..state.events import Event

RGB = tuple[int, int, int]

# Distinct, saturated colours that read on photos, cycled when there are more classes; red
# comes last because the ground-truth layer flags boxes without a positive anchor in red.
PALETTE: tuple[RGB, ...] = (
    (64, 160, 255), (64, 220, 96), (255, 200, 0), (200, 90, 255), (0, 220, 220), (255, 128, 32),
    (255, 96, 200), (160, 220, 0), (120, 120, 255), (255, 255, 128), (0, 160, 120), (255, 64, 64),
)


class ClassList:
    """Class names in display order with a colour each and the class new boxes get."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names: list[str] = []
        self.colours: dict[str, RGB] = {}
        self.default: str | None = None
        self.changed = Event()
        self.extend(names)

    def __contains__(self, name: object) -> bool:
        return name in self.colours

    def __len__(self) -> int:
        return len(self.names)

    def colour(self, name: str) -> RGB:
        """The colour of ``name`` (grey for a name not in the list)."""
        return self.colours.get(name, (180, 180, 180))

    def add(self, name: str) -> str:
        """Append ``name`` (stripped) with the next palette colour; returns it.

        Raises:
            ValueError: the name is empty or already in the list.
        """
        name = self._valid(name)
        self._append(name)
        self.changed.emit()
        return name

    def extend(self, names: Iterable[str]) -> None:
        """Append the names not yet listed (e.g. the labels found in an annotation file)."""
        added = False
        for name in names:
            if name and name not in self:
                self._append(name)
                added = True
        if added:
            self.changed.emit()

    def rename(self, old: str, new: str) -> None:
        """Rename a class in place, keeping its colour and its default status."""
        if old not in self:
            raise ValueError(f"no class {old!r}")
        new = self._valid(new)
        self.names[self.names.index(old)] = new
        self.colours[new] = self.colours.pop(old)
        if self.default == old:
            self.default = new
        self.changed.emit()

    def remove(self, name: str) -> None:
        if name not in self:
            raise ValueError(f"no class {name!r}")
        self.names.remove(name)
        del self.colours[name]
        if self.default == name:
            self.default = self.names[0] if self.names else None
        self.changed.emit()

    def set_colour(self, name: str, colour: RGB) -> None:
        colour = tuple(int(c) for c in colour[:3])
        if name not in self or not all(0 <= c <= 255 for c in colour):
            raise ValueError(f"cannot colour class {name!r} with {colour}")
        self.colours[name] = colour
        self.changed.emit()

    def set_default(self, name: str) -> None:
        """Make ``name`` the class of new boxes, adding it to the list if needed."""
        if name not in self:
            self._append(self._valid(name))
        self.default = name
        self.changed.emit()

    def by_number(self, number: int) -> str | None:
        """The class of number key ``number`` (1-based), if there is one."""
        return self.names[number - 1] if 1 <= number <= len(self.names) else None

    def _valid(self, name: str) -> str:
        name = str(name).strip()
        if not name:
            raise ValueError("a class name cannot be empty")
        if name in self:
            raise ValueError(f"class {name!r} exists already")
        return name

    def _append(self, name: str) -> None:
        self.names.append(name)
        used = set(self.colours.values())
        fresh = [c for c in PALETTE if c not in used]
        self.colours[name] = fresh[0] if fresh else PALETTE[len(self.names) % len(PALETTE)]
        if self.default is None:
            self.default = name
