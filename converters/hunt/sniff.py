"""A log file's format, from the structure of its first record, however long that record is.

JSON: the first line when it is a JSON value (NDJSON: a record, a page or an array per line),
otherwise the document read as far as its first record (inside a Reports API page, a Graph or
Reporting Web Service answer, an Azure Monitor export or an array). Text: the CSV header
(after PowerShell's ``#TYPE`` line), Zeek's ``#fields`` header, or a FortiGate or Squid line.
Nothing is read beyond ``MAX_RECORD_BYTES`` per record.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping
from typing import IO, NoReturn

from converters.engine.adapters import RecordFormatError
from converters.engine.formats import record_format
from converters.engine.rowtools import RecordFormat
from converters.engine.shapes import CONTAINER_KEYS, records_in
from converters.hunt.jsondoc import JsonError, iter_document

# The largest record read while detecting a format (one line, or one element of a document).
MAX_RECORD_BYTES = 64 << 20
_CHUNK = 1 << 16
_BLANK = b" \t\r\n\xef\xbb\xbf"
# Lines of a file looked at for a recognisable record before giving up.
_LINES = 50


class NotRecognised(Exception):
    """No record of a known format found: the message says what was seen."""


class Blank(Exception):
    """The file holds nothing but blanks: nothing to read, nothing lost."""


def sniff_stream(
    stream: IO[bytes], text_formats: Mapping[str, Callable[[str], object]]
) -> tuple[str, RecordFormat | None]:
    """``("json", record format)`` for JSON files, or ``(text format name, None)`` for the
    text formats: "ual-csv", "message-trace", "zeek-dns", or a key of ``text_formats`` (a
    parser of one line that raises RecordFormatError when the line is not its format)."""
    lines = _lines(stream)
    first = next(lines, None)
    if first is None:
        raise Blank
    if first[:1] in (b"[", b"{"):
        return "json", _json_format(first, lines, stream)
    text = first.decode("utf-8", "replace").lstrip("\ufeff").strip()
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


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Non-blank lines, each whole up to MAX_RECORD_BYTES."""
    while True:
        line = stream.readline(MAX_RECORD_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_RECORD_BYTES:
            raise NotRecognised(f"the first record is longer than {MAX_RECORD_BYTES} bytes")
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


def _json_format(first: bytes, lines: Iterator[bytes], stream: IO[bytes]) -> RecordFormat:
    seen: list[str] = []
    try:
        value = json.loads(first)
    except ValueError:
        head = _document_head(first, stream)
        return _find([head], seen) or _fail(seen)
    # NDJSON: a record (or a container of records) per line; a broken line lets the next tell.
    found = _find([value], seen)
    for number, line in enumerate(lines, start=2):
        if found is not None or number > _LINES:
            break
        try:
            found = _find([json.loads(line)], seen)
        except ValueError:
            continue
    return found or _fail(seen)


def _find(values: list[object], seen: list[str]) -> RecordFormat | None:
    """The format of the first recognised record among ``values`` (records or containers);
    the keys of the first unrecognised ones go to ``seen``."""
    for value in values:
        inner = records_in(value)
        for record in [value] if inner is None else inner[:_LINES]:
            if isinstance(record, dict):
                found = record_format(record)
                if found is not None:
                    return found
                if len(seen) < 3:
                    seen.append(", ".join(sorted(str(k) for k in record)[:10]))
    return None


def _fail(seen: list[str]) -> NoReturn:
    if not seen:
        raise NotRecognised("the JSON holds no records")
    raise NotRecognised(
        "no record of a known format; objects with keys: " + "; ".join(f"{{{s}}}" for s in seen)
    )


def _document_head(first: bytes, stream: IO[bytes]) -> object:
    """The first record of a JSON document spread over lines: read as far as it ends."""
    buffer = first + b"\n"
    while True:
        text = buffer.decode("utf-8", "replace").lstrip("\ufeff")
        try:
            return _first_element(text, json.JSONDecoder())
        except (ValueError, IndexError):
            # A broken first element of a pretty-printed array: the next one tells.
            for _line, value in iter_document(text):
                if not isinstance(value, JsonError):
                    return value
            more = stream.read(max(_CHUNK, len(buffer)))
            if not more:
                raise NotRecognised("malformed JSON before the first record ends") from None
            if len(buffer) > MAX_RECORD_BYTES:
                raise NotRecognised(
                    f"the first record is longer than {MAX_RECORD_BYTES} bytes"
                ) from None
            buffer += more


def _first_element(
    text: str, decoder: json.JSONDecoder, keys: tuple[str, ...] = CONTAINER_KEYS
) -> object:
    """The first element of the array at the start, or of a container key's array inside the
    object at the start; the object itself when it is a record; [] when the array is empty.
    ValueError or IndexError while the text ends too early."""
    pos = _skip(text, 0)
    if text[pos] == "[":
        pos = _skip(text, pos + 1)
        if text[pos] == "]":
            return []
        return decoder.raw_decode(text, pos)[0]
    start = pos
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        key, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos = _skip(text, pos + 1)
        if key in keys and text[pos] == "[":
            return _first_element(text[pos:], decoder)
        if key == "d" and text[pos] in "[{":  # OData v2: {"d": {"results": [...]}}
            return _first_element(text[pos:], decoder, ("results",))
        _value, pos = decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return decoder.raw_decode(text, start)[0]


def _skip(text: str, pos: int) -> int:
    while text[pos] in " \t\r\n":
        pos += 1
    return pos
