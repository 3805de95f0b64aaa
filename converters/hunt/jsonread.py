"""JSON log files -> records with their line numbers: NDJSON (a record, a page or an array per
line) or one JSON document, read as the file is read. A line, or an element of a document,
over a cap is skipped and reported at its line (converters.hunt.limits)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import IO, Any

import msgspec

from converters.engine.shapes import records_in
from converters.hunt.jsondoc import JsonError, Rest, read_document
from converters.hunt.jsonscan import deeper_than, line_deeper_than
from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.lines import line_pieces, prepended

# (line, record) or (line, why the record is malformed or skipped)
Item = tuple[int, Mapping[str, Any] | str]
_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n"
_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
_NOT_OPENING = bytes(c for c in range(256) if c not in b"{[")  # deleted: all but { and [


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
        lines = itertools.chain([first], line_pieces(stream, cap))
        yield from ndjson(lines, limits, number)
        return
    document = prepended(first, stream)
    rest = yield from _document(document, limits, number)
    if rest is not None:
        yield from ndjson(line_pieces(prepended(rest.head, document), cap), limits, rest.line)


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
    lines: Iterable[bytes], limits: Limits = DEFAULT_LIMITS, first: int = 1
) -> Iterator[Item]:
    """One JSON value per line (a record, a page or an array of records); blank lines are
    skipped; lines are numbered from ``first``. ``lines`` as converters.hunt.lines
    .line_pieces reads them: a line over the cap comes in pieces, and is reported once."""
    # msgspec first: several times faster than json on the common line, and exact on an
    # integer of any size, as json is (orjson reads one past 64 bits as a float: Workspace's
    # 21-digit profileId, unquoted in elastic/integrations google_workspace login
    # _dev/test/pipeline/test-login.log). It refuses what json reads differently (a BOM,
    # NaN, a lone surrogate, a number past a float's range, text after the value): such a
    # line takes the json path below, which says what is wrong.
    fast = _DECODER.decode
    refused = msgspec.DecodeError  # ValidationError (a number out of range) is one
    # The C scanner behind json.loads, without its wrappers.
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__
    max_depth, cap = limits.max_depth, limits.max_record_bytes
    number = first - 1
    pieces = iter(lines)
    for raw in pieces:
        number += 1
        if len(raw) > cap and raw[-1:] != b"\n":
            # Over the cap: the rest of the line is read a piece at a time and dropped, one
            # piece held at a time.
            raw = b""
            while (piece := next(pieces, b"\n"))[-1:] != b"\n":
                del piece
            yield number, limits.too_long
            continue
        # A line nests no deeper than it has opening brackets: most lines hold fewer than
        # the cap (then the decoder, which recurses, stays far from Python's limit) and are
        # not measured. They are counted in one C pass that keeps them alone (two counts
        # read the line twice; either costs less than decoding the line to text).
        if len(raw.translate(None, _NOT_OPENING)) <= max_depth:
            try:
                value = fast(raw)
            except refused:
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
