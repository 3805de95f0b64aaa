"""A log file's format, from the structure of its first record, however long that record is.

JSON: the records of the file as the hunt reads them (converters.hunt.jsonread: NDJSON, or a
document read element by element: inside a Reports API page, a Graph or Reporting Web
Service answer, an Azure Monitor export or an array), the first recognised one. Text: the CSV
header (after PowerShell's ``#TYPE`` line), Zeek's ``#fields`` header, or a FortiGate or Squid
line. Nothing is held beyond the record cap (converters.hunt.limits) per record.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from itertools import chain, islice
from typing import IO, NoReturn

from converters.engine.adapters import RecordFormatError
from converters.engine.formats import record_format
from converters.engine.rowtools import RecordFormat
from converters.hunt.jsonread import Item, read_json
from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.lines import Overlong, bounded_lines, prepended

_BLANK = b" \t\r\n\xef\xbb\xbf"
# Records (or lines) of a file looked at for a recognisable one before giving up.
_LINES = 50


class NotRecognised(Exception):
    """No record of a known format found: the message says what was seen."""


class Blank(Exception):
    """The file holds nothing but blanks: nothing to read, nothing lost."""


def sniff_stream(
    stream: IO[bytes],
    text_formats: Mapping[str, Callable[[str], object]],
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[str, RecordFormat | None]:
    """``("json", record format)`` for JSON files, or ``(text format name, None)`` for the
    text formats: "ual-csv", "message-trace", "zeek-dns", or a key of ``text_formats`` (a
    parser of one line that raises RecordFormatError when the line is not its format)."""
    first = _first_line(stream, limits.max_record_bytes)
    if first.lstrip(_BLANK)[:1] in (b"[", b"{"):
        return "json", _json_format(read_json(prepended(first, stream), limits))
    if len(first) > limits.max_record_bytes and not first.endswith(b"\n"):
        raise NotRecognised(f"the first line is {limits.too_long}")
    lines = chain([first.strip(_BLANK)], _lines(stream, limits.max_record_bytes))
    text = next(lines).decode("utf-8", "replace").strip()
    if text.startswith("#separator"):
        return _zeek(lines), None
    if text.startswith("#TYPE"):
        following = next(lines, b"")
        text = following.decode("utf-8", "replace").strip()
    header = next(csv.reader([text]), [])
    if "AuditData" in header:
        return "ual-csv", None
    if {"Received", "SenderAddress", "RecipientAddress"} <= set(header):
        return "message-trace", None
    for name, parse in text_formats.items():
        try:
            parse(text)
        except RecordFormatError:
            continue
        return name, None
    raise NotRecognised(f"the first line is no known record or header: {text[:80]!r}")


def _first_line(stream: IO[bytes], cap: int) -> bytes:
    """The first line that is not blank, up to ``cap + 1`` bytes of it (all of it unless it
    is longer than the cap)."""
    while True:
        line = stream.readline(cap + 1)
        if not line:
            raise Blank
        if line.strip(_BLANK):
            return line


def _lines(stream: IO[bytes], cap: int) -> Iterator[bytes]:
    """Non-blank lines, stripped, up to the first longer than the cap."""
    for line in bounded_lines(stream, cap):
        if isinstance(line, Overlong):
            return
        stripped = line.strip(_BLANK)
        if stripped:
            yield stripped


def _zeek(lines: Iterator[bytes]) -> str:
    for line in lines:
        if line.startswith(b"#fields"):
            if b"query" in line.split(b"\t"):
                return "zeek-dns"
            raise NotRecognised("a Zeek log, but not dns.log (no 'query' field)")
        if not line.startswith(b"#"):
            break
    raise NotRecognised("a Zeek log without a #fields header")


def _json_format(items: Iterator[Item]) -> RecordFormat:
    """The format of the first recognised record among the first records read."""
    seen: list[str] = []
    problems: list[str] = []
    for line, item in islice(items, _LINES):
        if isinstance(item, str):
            problems.append(f"line {line}: {item}")
            continue
        found = _find(item, seen)
        if found is not None:
            return found
    return _fail(seen, problems)


def _find(record: Mapping[str, object], seen: list[str]) -> RecordFormat | None:
    """The record's format; the keys of the first unrecognised records go to ``seen``."""
    found = record_format(record)
    if found is None and len(seen) < 3:
        seen.append(", ".join(sorted(str(k) for k in record)[:10]))
    return found


def _fail(seen: list[str], problems: list[str]) -> NoReturn:
    if seen:
        raise NotRecognised(
            "no record of a known format; objects with keys: " + "; ".join(f"{{{s}}}" for s in seen)
        )
    if problems:
        raise NotRecognised(f"no JSON record could be read; {problems[0]}")
    raise NotRecognised("the JSON holds no records")
