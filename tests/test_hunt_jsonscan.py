"""The JSON measured without decoding (converters.hunt.jsonscan) agrees with json.loads on
any JSON: nesting depth, where a value ends, however the text is cut into pieces."""

from __future__ import annotations

import json
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from converters.hunt import jsonscan
from converters.hunt.jsonscan import Extent, elements_within, nesting_depth, structure

# Text with what makes scanning hard: quotes, backslashes, brackets, commas, line breaks,
# characters of two to four bytes.
_TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{},:\n\t é東😀'), max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers() | _TEXT
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)
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
