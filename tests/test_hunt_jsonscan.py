"""The JSON measured without decoding (converters.hunt.jsonscan) and the document read as
the file is read (converters.hunt.jsondoc) agree with json.loads on any JSON: nesting depth,
where a value ends, the elements and their lines, however the text is cut into pieces."""

from __future__ import annotations

import io
import json
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from converters.hunt import jsondoc, jsonscan
from converters.hunt.jsondoc import JsonError, read_document
from converters.hunt.jsonread import read_json
from converters.hunt.jsonscan import Extent, elements_within, nesting_depth, structure
from converters.hunt.limits import Limits

# Text with what makes scanning hard: quotes, backslashes, brackets, commas, line breaks,
# characters of two to four bytes.
_TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{},:\n\t é東😀'), max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers() | _TEXT
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)
_RECORDS = st.dictionaries(_TEXT, _VALUES, max_size=4)
_LAYOUT = st.sampled_from([None, 0, 1, 2, 4])  # json.dumps indent


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    return 0


def dumps(value: object, indent: int | None, ascii_only: bool) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ascii_only)


@given(_VALUES, _LAYOUT, st.booleans())
def test_nesting_depth_is_the_depth_of_the_value(
    value: object, indent: int | None, a: bool
) -> None:
    text = dumps(value, indent, a)
    assert nesting_depth(text) == depth(value)
    assert not structure(text)[1]


def test_escapes_and_strings_hide_their_brackets() -> None:
    assert nesting_depth(r'["\\", "\"[[[", {"a\\\"": "]]"}]') == 2
    assert nesting_depth('"[[[[') == 0  # a string to the end of the text
    assert structure('{"a": "b\\') == (b"{", True)
    assert nesting_depth("[" * 100_000 + "]" * 100_000) == 100_000


@given(st.lists(_VALUES, max_size=6), _LAYOUT, st.integers(1, 40), st.integers(1, 9))
def test_extent_finds_where_each_element_ends(
    elements: list[object], indent: int | None, piece: int, slice_size: int
) -> None:
    text = json.dumps(elements, indent=indent, ensure_ascii=False)
    decoder = json.JSONDecoder()
    depths = [depth(e) for e in elements]
    for limit in (0, 1, 2):
        deep = next((n for n, d in enumerate(depths) if d > limit), None)
        assert elements_within(text[1:], limit) == deep, (text, limit)
    pos = 1
    with mock.patch.object(jsonscan, "_SLICE", slice_size):
        for _element in elements:
            while text[pos] in " \n":
                pos += 1
            _value, end = decoder.raw_decode(text, pos)
            extent = Extent()
            found = None
            for start in range(pos, len(text), piece):  # fed in pieces, as read
                found = extent.feed(text[: start + piece], start)
                if found is not None:
                    break
            assert found is not None and text[end:found].strip() == "", (text, pos)
            assert text[found] in ",]"
            pos = found + 1


def _read(data: bytes, limits: Limits, chunk: int) -> tuple[list[tuple[int, Any]], object]:
    with mock.patch.object(jsondoc, "_CHUNK", chunk):
        reader = read_document(io.BytesIO(data), limits)
        items = []
        while True:
            try:
                items.append(next(reader))
            except StopIteration as done:
                return items, done.value


@settings(max_examples=150)
@given(
    st.lists(_RECORDS, max_size=6),
    _LAYOUT,
    st.booleans(),
    st.sampled_from(["array", "items", "value", "records", "odata", "odata-list"]),
    st.integers(1, 64),
)
def test_a_document_read_in_pieces_gives_the_elements_at_their_lines(
    records: list[dict[str, Any]], indent: int | None, ascii_only: bool, shape: str, chunk: int
) -> None:
    wrapped: object = {
        "array": records,
        "items": {"kind": "admin#reports#activities", "etag": "e", "items": records},
        "value": {"@odata.context": "x", "value": records, "@odata.nextLink": "y"},
        "records": {"records": records},
        "odata": {"d": {"results": records, "__next": "z"}},
        "odata-list": {"d": records},
    }[shape]
    text = dumps(wrapped, indent, ascii_only)
    items, rest = _read(text.encode(), Limits(), chunk)
    assert rest is None
    assert [value for _line, value in items] == records
    if indent is not None:  # each element starts on its own line, with its opening brace
        lines = text.splitlines()
        for line, value in items:
            assert lines[line - 1].strip().startswith("{" if value else "{}"), (line, text)


@given(st.lists(_RECORDS, min_size=1, max_size=5), st.integers(1, 64), st.integers(1, 4))
def test_elements_over_the_caps_are_skipped_and_the_others_read(
    records: list[dict[str, Any]], chunk: int, max_depth: int
) -> None:
    cap = 60
    text = json.dumps(records, indent=1, ensure_ascii=False)
    items, _rest = _read(text.encode(), Limits(cap, max_depth), chunk)
    assert len(items) == len(records)
    limits = Limits(cap, max_depth)
    for (_line, value), record in zip(items, records, strict=True):
        # The element's text in the array: indented one more space than alone.
        size = len(json.dumps(record, indent=1, ensure_ascii=False).replace("\n", "\n ").encode())
        over = {limits.too_deep} if depth(record) > max_depth else set()
        over |= {limits.too_long} if size > cap else set()
        # Over both caps, the one found first depends on where the pieces were cut.
        assert value == record if not over else value in {JsonError(m) for m in over}


# What an attacker writes: JSON's characters in any order, a deep start, cut anywhere.
_GARBAGE = st.text(alphabet=st.sampled_from('[]{}",:\\ \n\tab01-.eé\ufeff'), max_size=120)


@settings(max_examples=300)
@given(
    _GARBAGE,
    st.sampled_from(["", "[" * 3000, '{"items": [' * 1500, '[{"a": 1},\n "' + "[" * 900]),
    st.integers(1, 64),
    st.sampled_from([80, 100_000]),
)
def test_any_text_is_read_without_an_error_escaping(
    garbage: str, start: str, chunk: int, cap: int
) -> None:
    limits = Limits(max_record_bytes=cap, max_depth=3)
    with mock.patch.object(jsondoc, "_CHUNK", chunk):
        items = list(read_json(io.BytesIO((start + garbage).encode()), limits))
    for _line, record in items:
        assert isinstance(record, str) or depth(record) <= limits.max_depth
