"""String enums whose members carry a short description for labels and lists."""

from __future__ import annotations

from enum import Enum


class DescribedEnum(str, Enum):
    """A ``str`` enum declared as ``NAME = ("value", "a short phrase")``: the value is what JSON
    files and scripts read, ``member.description`` what a label on the image or a list shows."""

    def __new__(cls, value: str, description: str) -> DescribedEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member
