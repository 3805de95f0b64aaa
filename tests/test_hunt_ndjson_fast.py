"""NDJSON lines decoded by orjson give what json gives, where the two differ too: integers
past 64 bits, NaN, a lone surrogate, a BOM, text after the value, blank lines."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.hunt.jsonread import _SHAPE, _long_integer, ndjson

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


def test_what_orjson_refuses_is_reported_as_before() -> None:
    lines = [b"\xef\xbb\xbf" + b'{"a": 1}\n', b"\n", b'{"a": 1} x\n', b'{"a": \xff}\n', b"[1]\n"]
    found = list(ndjson(lines))
    assert found[0] == (1, {"a": 1})
    assert found[1][0] == 3 and str(found[1][1]).startswith("malformed JSON")
    assert found[2] == (4, "not UTF-8")
    assert found[3] == (5, "a record must be a JSON object, got int")


@pytest.mark.parametrize(
    ("line", "long"),
    [
        # Workspace's quoted ids: orjson reads them (strings stay strings).
        (
            b'{"uniqueQualifier": "-1000000000000000119", "profileId": "105250506097979753968"}',
            False,
        ),
        (b'{"profileId": 105250506097979753968}', True),
        (b'{"n":-1000000000000000119}', True),
        (b"[1000000000000000119]", True),
        (b"1000000000000000119", True),
        (b'{"s": "id 1000000000000000119"}', True),  # over-matched: json reads it, as safe
        (b'{"s": "1000000000000000119", "n": 10000000000000000000}', True),
        (b'{"n": 100000000000000000}', False),  # 18 digits fit in 64 bits
    ],
)
def test_a_long_integer_is_told_from_digits_that_open_a_string(line: bytes, long: bool) -> None:
    assert _long_integer(line.translate(_SHAPE)) is long


_SCALARS = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(alphabet='0123456789-" x', max_size=30),
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
    line = json.dumps(record, separators=separators).encode() + b"\n"
    [(_number, value)] = list(ndjson([line]))
    assert value == record
    assert [type(v) for v in _leaves(value)] == [type(v) for v in _leaves(record)]
