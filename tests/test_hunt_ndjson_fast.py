"""NDJSON lines decoded by orjson give what json gives, where the two differ too: integers
past 64 bits, NaN, a lone surrogate, a BOM, text after the value, blank lines."""

from __future__ import annotations

import json

import pytest

from converters.hunt.jsonread import ndjson

LINES = [
    b'{"actor": {"profileId": 105250506097979753968}}\n',  # 21 digits: past 64 bits
    b'{"n": -9223372036854775809, "m": 18446744073709551615}\n',
    b'{"v": NaN, "w": Infinity}\n',
    b'{"s": "\\ud800"}\n',
    b'{"a": 1.5e3, "b": [1, {"c": null}], "d": true, "e": "\\u00e9t\\u00e9"}\n',
    b'{"id": "1234567890123456789012"}\n',
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
