"""Reading users' JSON piece by piece: the same document and the same errors as ``json.loads``."""

from __future__ import annotations

import gc
import json
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frcnn_core.files.json_input import parse_in_pieces

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
                      max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(document=st.dictionaries(st.text(max_size=6), VALUES, max_size=5) | VALUES, piece=st.integers(1, 16),
       indent=st.sampled_from([None, 1]), ascii_only=st.booleans())
def test_same_document_as_json_loads_whatever_the_piece_size(document, piece, indent, ascii_only):
    raw = json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()

    def hook(obj: dict) -> dict:
        return {**obj, "_seen": len(obj)}

    assert parse_in_pieces(raw, hook, piece) == json.loads(raw, object_hook=hook)


@pytest.mark.parametrize("text", [
    '{"a": [1, 2,]}', '{"a": [1 2]}', '{"a" 1}', '{"a": 1,}', '{"a": 1} x', "", '{"a": [1, 2]', '{\n"a":\n [1,\n 2\n x]}',
    "[1,]", '{"a": [1x]}', '{"a": tru}', '{"images": [{"id": 1}, {"id": }]}', '{"é": ["ü", 1.5e}',
])
@pytest.mark.parametrize("piece", [1, 3, 1 << 20])
def test_same_error_line_and_column_as_json_loads(text, piece):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text.encode())
    with pytest.raises(json.JSONDecodeError) as got:
        parse_in_pieces(text.encode(), None, piece)
    assert (got.value.msg, got.value.lineno, got.value.colno) == (expected.value.msg, expected.value.lineno, expected.value.colno)


def test_a_byte_order_mark_and_utf16_are_read_as_json_loads_reads_them():
    document = {"images": [{"file_name": "ä.jpg"}]}
    assert parse_in_pieces(b"\xef\xbb\xbf" + json.dumps(document).encode(), None, 4) == document
    assert parse_in_pieces(json.dumps(document).encode("utf-16"), None, 4) == document


def test_other_threads_run_while_a_large_file_is_parsed():
    """The point of parsing in pieces: no call holds the interpreter lock for long."""
    raw = json.dumps({"images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480} for i in range(60_000)],
                      "annotations": [{"id": i, "image_id": i // 7, "bbox": [1.5, 2.5, 30.25, 40.0]} for i in range(200_000)]}).encode()
    done, gaps = threading.Event(), []

    def tick():
        last = time.perf_counter()
        while not done.is_set():
            time.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = threading.Thread(target=tick)
    gc.disable()  # as the COCO reader parses: a collection over a million new objects is a stall of its own
    ticker.start()
    try:
        document = parse_in_pieces(raw)
    finally:
        done.set()
        gc.enable()
        ticker.join()
    assert len(document["annotations"]) == 200_000
    assert max(gaps) < 0.1
