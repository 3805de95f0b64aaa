"""JSON log files -> records with their line numbers: NDJSON (a record, a page or an array per
line) or one JSON document, read as the file is read. A line, or an element of a document,
over a cap is skipped and reported at its line (converters.hunt.limits)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import IO, Any

import orjson

from converters.engine.shapes import records_in
from converters.hunt.jsondoc import JsonError, Rest, read_document
from converters.hunt.jsonscan import deeper_than, line_deeper_than
from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.lines import Overlong, bounded_lines, prepended

# (line, record) or (line, why the record is malformed or skipped)
Item = tuple[int, Mapping[str, Any] | str]
_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n"
# One translation of a line answers the two questions asked before orjson may read it: how
# many brackets open (over the depth cap: measured properly, on the json path) and whether an
# integer of 19 digits or more stands outside a string. orjson reads an integer past 64 bits as
# a float, where json keeps it exact: such a line goes to json. A run of digits that opens a
# string (Workspace's 21-digit profileId and 19-digit uniqueQualifier, quoted) does not: in
# valid JSON a quote is never directly followed by a number. Both forms occur (elastic/
# integrations google_workspace login _dev/test/pipeline/test-login.log has numeric and quoted
# ids) and both read exactly; only the speed differs. A regex costs several times more.
_SHAPE = bytes(
    ord("0")
    if chr(b).isdigit() and b < 128
    else ord("{")
    if b in b"[{"
    else b
    if b in b'"-'
    else ord(" ")
    for b in range(256)
)
_LONG_NUMBER = b"0" * 19


_QUOTED = b'"' + _LONG_NUMBER
_QUOTED_NEGATIVE = b'"-' + _LONG_NUMBER


def _long_integer(shape: bytes) -> bool:
    """Whether ``shape`` (a line through _SHAPE) may hold an integer of 19 digits or more:
    a long run of digits not at the start of a string (over-matching is safe: json reads)."""
    runs = shape.count(_LONG_NUMBER)
    # Every run that opens a string is also counted in ``runs``: when they are all there is
    # (the usual Workspace line), no integer is long; three C scans, no Python loop.
    if not runs or runs == shape.count(_QUOTED) + shape.count(_QUOTED_NEGATIVE):
        return False
    at = shape.find(_LONG_NUMBER)
    while at != -1:
        start = at - 1 if shape[at - 1 : at] == b"-" else at
        if shape[start - 1 : start] != b'"':
            return True
        end = at + len(_LONG_NUMBER)
        while shape[end : end + 1] == b"0":
            end += 1
        at = shape.find(_LONG_NUMBER, end)
    return False


def records(line: int, value: object) -> Iterator[Item]:
    """The records of a value: itself, or those of the container it is."""
    inner = records_in(value)
    for item in [value] if inner is None else inner:
        if isinstance(item, dict):
            yield line, item
        else:
            yield line, f"a record must be a JSON object, got {type(item).__name__}"


def read_json(stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
    """NDJSON, or one JSON document: NDJSON when the first line that is not blank is a JSON
    value. A first line longer than the cap is read as a document, element by element (a
    JSON array on one line); the lines after it, if any, as NDJSON."""
    cap = limits.max_record_bytes
    number, first = 1, b""
    while not first.strip(_BLANK):  # blank lines, a BOM
        if first.endswith(b"\n"):
            number += 1
        first = stream.readline(cap + 1)
        if not first:
            return
        first = first.removeprefix(_BOM) if number == 1 else first
    whole = len(first) <= cap or first.endswith(b"\n")
    if whole and _is_ndjson(first, limits):
        lines = itertools.chain([first], bounded_lines(stream, cap))
        yield from ndjson(lines, limits, number)
        return
    document = prepended(first, stream)
    rest = yield from _document(document, limits, number)
    if rest is not None:
        yield from ndjson(bounded_lines(prepended(rest.head, document), cap), limits, rest.line)


def _document(
    stream: IO[bytes], limits: Limits, first_line: int
) -> Generator[Item, None, Rest | None]:
    """The document's records; returns the NDJSON lines after a one-line document."""
    elements = read_document(stream, limits, first_line)
    while True:
        try:
            line, value = next(elements)
        except StopIteration as done:
            rest: Rest | None = done.value
            return rest
        if isinstance(value, JsonError):
            yield line, value.message
        else:
            yield from records(line, value)


def _is_ndjson(first_line: bytes, limits: Limits) -> bool:
    text = first_line.decode("utf-8", "replace").strip()
    if text[:1] + text[-1:] in ("{}", "[]"):
        return True
    # The decoder recurses: a first line nested too deep is read as a document, that
    # measures before it decodes.
    if deeper_than(text, limits.max_depth):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def ndjson(
    lines: Iterable[bytes | Overlong], limits: Limits = DEFAULT_LIMITS, first: int = 1
) -> Iterator[Item]:
    """One JSON value per line (a record, a page or an array of records); blank lines are
    skipped; lines are numbered from ``first``."""
    # orjson first: several times faster than json on the common line. It refuses what json
    # reads differently (a BOM, NaN, a lone surrogate, text after the value): such a line, and
    # one with a long integer, takes the json path below, which says what is wrong.
    fast = orjson.loads
    # The C scanner behind json.loads, without its wrappers.
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__
    max_depth = limits.max_depth
    for number, raw in enumerate(lines, start=first):
        if isinstance(raw, Overlong):
            yield number, limits.too_long
            continue
        # Most lines hold fewer opening brackets than the cap: their depth is not measured.
        shape = raw.translate(_SHAPE)
        if shape.count(b"{") <= max_depth and not _long_integer(shape):
            try:
                value = fast(raw)
            except orjson.JSONDecodeError:
                pass
            else:
                if type(value) is dict and records_in(value) is None:
                    yield number, value
                else:
                    yield from records(number, value)
                continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, "not UTF-8"
            continue
        if line_deeper_than(raw, text, max_depth):
            yield number, limits.too_deep
            continue
        try:
            value, end = scan(text, 0)
            if end < len(text) - 2 and not text[end:].isspace():
                raise ValueError  # something after the value: let json.loads say what
        except (StopIteration, ValueError):
            # Leading blanks or a BOM, a blank line, or malformed JSON.
            text = text.lstrip("\ufeff") if number == 1 else text
            if not text or text.isspace():
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                yield number, f"malformed JSON: {exc}"
                continue
        if type(value) is dict and records_in(value) is None:
            yield number, value  # the common case, without the generator below
        else:
            yield from records(number, value)
