"""Log files -> raw records with their line numbers: format detection, gzip, JSON documents,
NDJSON, CSV exports and text logs. Malformed records come out as messages at their line, so
the caller counts and reports them and reading goes on."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from converters.engine.adapters import RecordFormatError
from converters.engine.formats import (
    ENTRA,
    FORTIGATE,
    MESSAGE_TRACE_FORMAT,
    SIGNUP,
    SQUID,
    UAL,
    ZEEK,
    squid_record,
)
from converters.engine.gws import GMAIL_BIGQUERY, GWS
from converters.engine.netlogs import fortigate_record
from converters.engine.rowtools import RecordFormat
from converters.engine.shapes import records_in
from converters.hunt.jsondoc import JsonError, iter_document
from converters.hunt.sniff import Blank, NotRecognised, sniff_stream

# (line, record) or (line, why the record is malformed)
Item = tuple[int, Mapping[str, Any] | str]
_GZIP_MAGIC = b"\x1f\x8b"


class InputError(Exception):
    """A file that cannot be read at all, or whose format is unknown."""


@dataclass(frozen=True)
class FileFormat:
    name: str
    title: str
    record: RecordFormat
    read: Callable[[IO[bytes]], Iterator[Item]]


def _records(line: int, value: object) -> Iterator[Item]:
    inner = records_in(value)
    for item in [value] if inner is None else inner:
        if isinstance(item, dict):
            yield line, item
        else:
            yield line, f"a record must be a JSON object, got {type(item).__name__}"


def _is_ndjson(first_line: str) -> bool:
    text = first_line.strip()
    if text.startswith("{") and text.endswith("}"):
        return True
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def read_json(stream: IO[bytes]) -> Iterator[Item]:
    """NDJSON (one record, page or array per line) or one JSON document."""
    head = [stream.readline()]
    while head[-1] and not head[-1].strip(b" \t\r\n\xef\xbb\xbf"):  # blank lines, a BOM
        head.append(stream.readline())
    if _is_ndjson(head[-1].decode("utf-8", "replace").lstrip("\ufeff")):
        yield from _ndjson(itertools.chain(head, stream))
        return
    data = b"".join(head) + stream.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        yield line, "not UTF-8 (the file cannot be read as JSON)"
        return
    for line, value in iter_document(text):
        if isinstance(value, JsonError):
            yield line, value.message
        else:
            yield from _records(line, value)


def _ndjson(lines: Iterator[bytes]) -> Iterator[Item]:
    # The C scanner behind json.loads, without its wrappers: this runs once per line.
    scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__
    number = 0
    for raw in lines:
        number += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, "not UTF-8"
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
            yield from _records(number, value)


def _text_lines(stream: IO[bytes]) -> Iterator[tuple[int, str | None]]:
    """Decoded lines without their line break; None for a line that is not UTF-8."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None
            continue
        if number == 1:
            text = text.lstrip("\ufeff")
        yield number, text.rstrip("\r\n")


def _csv_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[str] | str]]:
    """CSV rows with the line each starts on; the header is the first row; PowerShell's
    ``#TYPE`` line (Export-Csv without -NoTypeInformation) is skipped."""
    bad: set[int] = set()
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for number, text in _text_lines(stream):
            count = number
            if number == 1 and text is not None and text.startswith("#TYPE"):
                continue
            if text is None:
                bad.add(number)
                text = ""
            yield text + "\n"

    reader = csv.reader(lines())
    end = 0
    for row in reader:
        start = end + 1
        end = count
        if not any(row):
            continue
        if bad & set(range(start, end + 1)):
            yield start, "not UTF-8"
        else:
            yield start, row


def read_ual_csv(stream: IO[bytes]) -> Iterator[Item]:
    """Search-UnifiedAuditLog | Export-Csv: the record is the JSON in the AuditData column."""
    rows = _csv_rows(stream)
    column = -1
    for line, row in rows:
        if isinstance(row, str):
            yield line, row
        elif column < 0:
            if "AuditData" not in row:
                raise InputError("no AuditData column in the CSV header")
            column = row.index("AuditData")
        elif len(row) <= column:
            yield line, f"row has {len(row)} columns, AuditData is column {column + 1}"
        else:
            try:
                value = json.loads(row[column])
            except ValueError as exc:
                yield line, f"AuditData is not JSON: {exc}"
                continue
            yield from _records(line, value)


def read_csv(stream: IO[bytes]) -> Iterator[Item]:
    """A CSV export whose columns are the record's fields (message trace)."""
    header: list[str] = []
    for line, row in _csv_rows(stream):
        if isinstance(row, str):
            yield line, row
        elif not header:
            header = row
        elif len(row) != len(header):
            yield line, f"row has {len(row)} columns, the header {len(header)}"
        else:
            yield line, dict(zip(header, row, strict=True))


def read_zeek(stream: IO[bytes]) -> Iterator[Item]:
    """Zeek logs as JSON lines, or Zeek's TSV with its #fields header."""
    first = stream.readline()
    if not first.startswith(b"#separator"):
        yield from _ndjson(itertools.chain((first,), stream))
        return
    fields: list[str] = []
    for line, text in _text_lines(io.BytesIO(first + stream.read())):
        if text is None:
            yield line, "not UTF-8"
        elif text.startswith("#fields"):
            fields = text.split("\t")[1:]
        elif text and not text.startswith("#"):
            values = text.split("\t")
            if len(values) != len(fields):
                yield line, f"{len(values)} values for {len(fields)} #fields"
            else:
                # "-" is Zeek's unset field; vectors and sets are comma-separated.
                yield (
                    line,
                    {
                        k: (v.split(",") if "," in v and k == "answers" else v)
                        for k, v in zip(fields, values, strict=True)
                        if v != "-"
                    },
                )


def _line_records(parse: Callable[[str], dict[str, str]]) -> Callable[[IO[bytes]], Iterator[Item]]:
    """A reader of a one-record-per-line text log; a line ``parse`` refuses is reported."""

    def read(stream: IO[bytes]) -> Iterator[Item]:
        for line, text in _text_lines(stream):
            if text is None:
                yield line, "not UTF-8"
            elif text.strip():
                try:
                    yield line, parse(text)
                except RecordFormatError as exc:
                    yield line, str(exc)

    return read


read_squid = _line_records(squid_record)
# FortiGate key=value lines, with or without a syslog header.
read_fortigate = _line_records(fortigate_record)


FILE_FORMATS: dict[str, FileFormat] = {
    f.name: f
    for f in (
        FileFormat(
            "gws",
            "Google Workspace activities (Reports API page or NDJSON; Elastic or Splunk shape)",
            GWS,
            read_json,
        ),
        FileFormat(
            "gmail-bigquery", "Gmail log rows (BigQuery export, NDJSON)", GMAIL_BIGQUERY, read_json
        ),
        FileFormat("ual", "Microsoft 365 Unified Audit Log (JSON array or NDJSON)", UAL, read_json),
        FileFormat("ual-csv", "Search-UnifiedAuditLog CSV export (AuditData)", UAL, read_ual_csv),
        FileFormat(
            "entra",
            "Microsoft Entra ID audit (Graph directoryAudits; Azure Monitor AuditLogs records)",
            ENTRA,
            read_json,
        ),
        FileFormat(
            "message-trace", "Microsoft 365 message trace (CSV)", MESSAGE_TRACE_FORMAT, read_csv
        ),
        FileFormat(
            "message-trace-json",
            "Microsoft 365 message trace (Reporting Web Service JSON or NDJSON)",
            MESSAGE_TRACE_FORMAT,
            read_json,
        ),
        FileFormat("zeek-dns", "Zeek dns.log (JSON or TSV)", ZEEK, read_zeek),
        FileFormat("squid", "Squid access.log (native format)", SQUID, read_squid),
        FileFormat("fortigate", "FortiGate logs (key=value syslog)", FORTIGATE, read_fortigate),
        FileFormat("mail-signup", "Mail service sign-up log (NDJSON)", SIGNUP, read_json),
    )
}
# A file of blanks only: listed with no records; not a format one can ask for.
EMPTY = FileFormat("empty", "an empty file", UAL, lambda stream: iter(()))
# The file format of a JSON file whose records are of a record format.
_JSON_FORMATS: dict[str, FileFormat] = {
    f.record.name: f for f in FILE_FORMATS.values() if f.read is read_json or (f.record is ZEEK)
}
_TEXT_FORMATS = {"fortigate": fortigate_record, "squid": squid_record}


def known_formats() -> str:
    return "; ".join(f"{f.name} ({f.title})" for f in FILE_FORMATS.values())


def open_log(path: Path) -> tuple[IO[bytes], Callable[[], int]]:
    """The file's bytes (gunzipped when it is gzip) and a function giving how many bytes of
    the file on disk have been consumed (for the progress bar)."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}") from exc
    magic = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw.tell  # type: ignore[return-value]
    return raw, raw.tell


def sniff(path: Path) -> FileFormat:
    """The file's format, from the structure of its first record; InputError saying what was
    seen and naming the formats known."""
    stream, _ = open_log(path)
    try:
        with stream:
            kind, record = sniff_stream(stream, _TEXT_FORMATS)
    except Blank:
        return EMPTY
    except NotRecognised as exc:
        raise InputError(
            f"unknown format: {exc}; the formats known are: {known_formats()}"
        ) from exc
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read: {exc}") from exc
    if record is None:
        return FILE_FORMATS[kind]
    return _JSON_FORMATS[record.name]
