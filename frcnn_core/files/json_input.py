"""Reading a JSON file that a user gave us: every way it can fail is one line naming the file."""

from __future__ import annotations

import codecs
import json
import json.scanner
import re
from collections.abc import Callable
from pathlib import Path


def load_json(path: str | Path, kind: str, error: type[Exception] = ValueError, parse: Callable[[bytes], object] = json.loads) -> object:
    """The document in ``path`` (parsed by ``parse`` from the file's bytes).

    A missing or unreadable file, text that is not JSON and a document nested too deeply
    for Python (``[[[[…`` 100 000 deep) raise ``error`` with one line naming ``path``;
    ``kind`` says what the file should have been (e.g. ``"a COCO file"``)."""
    try:
        return parse(Path(path).read_bytes())
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise error(f"{path}: JSON nested too deeply to be {kind}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None


# Bytes decoded at a time by :func:`parse_in_pieces` (a few milliseconds of work each).
PIECE_BYTES = 1 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DELIMITERS = frozenset(" \t\n\r,]}:")
_NUMBER_START = frozenset("-0123456789")


class _Pieces:
    """The document's text, decoded piece by piece: ``text[pos:]`` is what is left to parse of
    what has been decoded so far; parsed text before ``pos`` is dropped as more comes in."""

    def __init__(self, raw: bytes, piece: int) -> None:
        self.raw, self.piece, self.offset = raw, piece, 0
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text, self.pos = "", 0
        self.lines_before = 0  # newlines in the dropped text
        self.column_before = 0  # characters after the dropped text's last newline
        if raw.startswith(codecs.BOM_UTF8):
            self.offset = len(codecs.BOM_UTF8)

    @property
    def at_end(self) -> bool:
        return self.offset >= len(self.raw)

    def more(self) -> bool:
        """Decode the next piece; False at the end of the file."""
        if self.at_end:
            return False
        chunk = self.raw[self.offset:self.offset + self.piece]
        self.offset += len(chunk)
        dropped = self.text[:self.pos]
        newlines = dropped.count("\n")
        self.lines_before += newlines
        self.column_before = len(dropped) - dropped.rfind("\n") - 1 if newlines else self.column_before + len(dropped)
        self.text = self.text[self.pos:] + self.decoder.decode(chunk, final=self.at_end)
        self.pos = 0
        return True

    def skip_whitespace(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def error(self, message: str) -> json.JSONDecodeError:
        """A ``JSONDecodeError`` at ``pos`` with the line and column of the whole file."""
        exc = json.JSONDecodeError(message, self.text, self.pos)
        if exc.lineno == 1:
            exc.colno += self.column_before
        exc.lineno += self.lines_before
        exc.pos += self.offset  # roughly: the bytes read so far
        return exc


def parse_in_pieces(raw: bytes, object_hook: Callable[[dict], object] | None = None, piece: int = PIECE_BYTES) -> object:
    """``json.loads(raw, object_hook=object_hook)``, decoded and parsed a piece at a time.

    ``json.loads`` turns a 189 MB file (COCO train2017's annotations) into one string and
    parses it in C calls that hold the interpreter lock for a quarter of a second at a time,
    freezing every other thread of the process (the viewer's window while it opens the file
    in a worker). Here the UTF-8 text is decoded ``piece`` bytes at a time and the elements
    of the top-level object's arrays (COCO's ``images``, ``annotations``) are parsed one by
    one, so no single call holds the lock for long. Same result and the same errors (line
    and column in the whole file) as ``json.loads``; files in UTF-16/32 go to ``json.loads``.
    An element cut by the end of a piece is parsed again once the next piece is in, so
    ``object_hook`` may see an object more than once: it must not count on being called once.
    """
    if raw[:4].count(0):  # UTF-16 or UTF-32 (JSON starts with ASCII): rare, parsed at once
        return json.loads(raw, object_hook=object_hook)
    text = _Pieces(raw, piece)
    scan = json.scanner.make_scanner(json.JSONDecoder(object_hook=object_hook))

    def value():
        """The value at ``pos``, complete: a number cut at the end of the decoded text (``12`` of
        ``123``, ``1`` of ``1.5``) counts only once a delimiter follows it or the file ends."""
        if not text.skip_whitespace():
            raise text.error("Expecting value")
        while True:
            try:
                parsed, end = scan(text.text, text.pos)
                if text.at_end or text.text[text.pos] not in _NUMBER_START or (end < len(text.text) and text.text[end] in _DELIMITERS):
                    text.pos = end
                    return parsed
            except StopIteration as stop:
                if text.at_end:
                    text.pos = stop.value  # where a value was expected
                    raise text.error("Expecting value") from None
            except json.JSONDecodeError as exc:
                if text.at_end:
                    text.pos = exc.pos
                    raise text.error(exc.msg) from None
            text.more()

    def array() -> list:
        text.pos += 1  # "["
        items: list = []
        if text.skip_whitespace() == "]":
            text.pos += 1
            return items
        while True:
            items.append(value())
            following = text.skip_whitespace()
            text.pos += 1
            if following == "]":
                return items
            if following != ",":
                text.pos -= 1
                raise text.error("Expecting ',' delimiter")

    first = text.skip_whitespace()
    if first != "{":
        document = value()
    else:
        text.pos += 1
        document = {}
        while True:
            following = text.skip_whitespace()
            if following == "}" and not document:
                text.pos += 1
                break
            if following != '"':
                raise text.error("Expecting property name enclosed in double quotes")
            key = value()
            if text.skip_whitespace() != ":":
                raise text.error("Expecting ':' delimiter")
            text.pos += 1
            document[key] = array() if text.skip_whitespace() == "[" else value()
            following = text.skip_whitespace()
            text.pos += 1
            if following == "}":
                break
            if following != ",":
                text.pos -= 1
                raise text.error("Expecting ',' delimiter")
        if object_hook is not None:
            document = object_hook(document)
    if text.skip_whitespace():
        raise text.error("Extra data")
    return document
