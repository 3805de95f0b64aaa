"""NDJSON lines decoded by msgspec give what json gives, where the two differ too: integers
past 64 bits, NaN, a lone surrogate, a BOM, text after the value, blank lines, numbers
past a float's range or with more digits than Python converts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.hunt.jsonread import ndjson
from converters.hunt.limits import Limits

LINES = [
    b'{"actor": {"profileId": 105250506097979753968}}\n',  # 21 digits: past 64 bits
    b'{"n": -9223372036854775809, "m": 18446744073709551615}\n',
    b'{"v": NaN, "w": Infinity}\n',
    b'{"s": "\\ud800"}\n',
    b'{"a": 1.5e3, "b": [1, {"c": null}], "d": true, "e": "\\u00e9t\\u00e9"}\n',
    b'{"id": "1234567890123456789012"}\n',
    b'{"q": "-1000000000000000119", "p": "105250506097979753968", "n": 12345678901234567890}\n',
    b'{"a": "x", "n":-12345678901234567890123}\n',
    b'{"t": ["7", 99999999999999999999]}\n',
    b'{"big": 2e308, "small": 1e-400, "z": -0.0, "e": 1E+2}\n',  # json: inf, 0.0, -0.0, 100.0
    b'{"s": "\\udc00 alone", "p": "\\ud83d\\ude00"}\n',
    b'{"a": 1, "a": 2}\n',  # the last one wins, in json as here
    b'{"n": 123456789012345678901234567890.5, "m": 9007199254740993}\n',
]


@pytest.mark.parametrize("line", LINES, ids=range(len(LINES)))
def test_a_line_reads_as_json_reads_it(line: bytes) -> None:
    [(number, value)] = list(ndjson([line]))
    assert number == 1
    expected = json.loads(line)
    assert value == expected or json.dumps(value) == json.dumps(expected)
    assert [type(v) for v in _leaves(value)] == [type(v) for v in _leaves(expected)]


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_what_the_fast_decoder_refuses_is_reported_as_json_says() -> None:
    lines = [b"\xef\xbb\xbf" + b'{"a": 1}\n', b"\n", b'{"a": 1} x\n', b'{"a": \xff}\n', b"[1]\n"]
    found = list(ndjson(lines))
    assert found[0] == (1, {"a": 1})
    assert found[1][0] == 3 and str(found[1][1]).startswith("malformed JSON")
    assert found[2] == (4, "not UTF-8")
    assert found[3] == (5, "a record must be a JSON object, got int")


def test_an_integer_with_more_digits_than_python_converts_is_reported_as_json_says() -> None:
    # json refuses past 4,300 digits (int_max_str_digits); the fast decoder must not read it.
    [(number, problem)] = list(ndjson([b'{"n": ' + b"9" * 5000 + b"}\n"]))
    assert number == 1 and str(problem).startswith("malformed JSON")


def test_a_line_with_more_brackets_than_the_cap_is_measured_not_refused() -> None:
    # 70 brackets side by side nest two deep: the count only sends the line to be measured.
    flat = b'{"a": [' + b", ".join([b"[]"] * 34) + b"]}\n"
    assert list(ndjson([flat], Limits(max_depth=64))) == [(1, json.loads(flat))]
    deep = b'{"a": ' + b"[" * 70 + b"]" * 70 + b"}\n"
    assert list(ndjson([deep], Limits(max_depth=64))) == [(1, Limits(max_depth=64).too_deep)]


_SCALARS = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(alphabet='0123456789-" x', max_size=30),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)
# Keys that never make a record look like a container (a page's "items", Graph's "value").
_KEYS = st.text(alphabet="abcxyz", max_size=5)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=5), st.booleans())
def test_any_record_reads_as_json_reads_it(record: dict[str, object], compact: bool) -> None:
    separators = (",", ":") if compact else (", ", ": ")
    # Non-ASCII escaped on one draw, written as UTF-8 on the other.
    line = json.dumps(record, separators=separators, ensure_ascii=compact).encode() + b"\n"
    [(_number, value)] = list(ndjson([line]))
    assert value == record
    assert [type(v) for v in _leaves(value)] == [type(v) for v in _leaves(record)]
