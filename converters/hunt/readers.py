"""Log files -> raw records with their line numbers: format detection, gzip, JSON documents,
NDJSON, CSV exports and text logs. Malformed records, and records over a cap
(converters.hunt.limits), come out as messages at their line, so the caller counts and
reports them and reading goes on."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

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
from converters.hunt.jsonread import Item, ndjson, read_json, records
from converters.hunt.jsonscan import deeper_than
from converters.hunt.limits import DEFAULT_LIMITS, Limits
from converters.hunt.lines import Overlong, bounded_lines, line_pieces, prepended
from converters.hunt.sniff import Blank, NotRecognised, sniff_stream

_GZIP_MAGIC = b"\x1f\x8b"
# Read buffers: a line longer than the cap is read to its end and dropped in pieces of up to
# this; with the default 8 KiB (a system call each), a 2 GB line took seconds.
_BUFFER = 1 << 20


class InputError(Exception):
    """A file that cannot be read at all, or whose format is unknown."""


class UnknownFormat(InputError):
    """A file whose first record is of no known format."""


def read_failure(exc: BaseException) -> str:
    """What went wrong reading a file: a broken gzip file is named as such."""
    if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error):
        return f"a corrupt or truncated gzip file ({exc})"
    return str(exc)


class Reader(Protocol):
    def __call__(self, stream: IO[bytes], limits: Limits = ..., /) -> Iterator[Item]: ...


@dataclass(frozen=True)
class FileFormat:
    name: str
    title: str
    record: RecordFormat
    read: Reader


def _text_lines(stream: IO[bytes], limits: Limits) -> Iterator[tuple[int, str, str | None]]:
    """(line, text without its line break, None) per line; (line, "", why) for a line that
    cannot be read: not UTF-8, or longer than the cap."""
    for number, raw in enumerate(bounded_lines(stream, limits.max_record_bytes), start=1):
        if isinstance(raw, Overlong):
            yield number, "", limits.too_long
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, "", "not UTF-8"
            continue
        if number == 1:
            text = text.lstrip("\ufeff")
        yield number, text.rstrip("\r\n"), None


class _SkipRow(Exception):
    """A CSV row not read: the line it starts on and why."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _CsvLines:
    """The lines of a CSV file as csv.reader takes them, each row's bytes counted. The rest
    of a row over the cap is read and dropped up to the line where its quotes close, and
    _SkipRow raised instead: the reader never holds more than the cap. A line with a NUL byte
    or that is not UTF-8 is given cleaned (so that the reader stays in step with the quotes)
    and its row skipped. PowerShell's ``#TYPE`` line (Export-Csv without -NoTypeInformation)
    is left out."""

    def __init__(self, stream: IO[bytes], limits: Limits) -> None:
        self.lines = bounded_lines(stream, limits.max_record_bytes, count_quotes=True)
        self.limits = limits
        self.number = 0  # the line last read
        self.start = 1  # the line the row being read starts on
        self.size = 0  # its bytes so far
        self.quotes = 0  # its quote characters so far
        self.problem: str | None = None  # why the row is skipped once read

    def __iter__(self) -> _CsvLines:
        return self

    def next_row(self) -> None:
        self.start, self.size, self.quotes, self.problem = self.number + 1, 0, 0, None

    def __next__(self) -> str:
        raw = next(self.lines)
        self.number += 1
        if isinstance(raw, Overlong):
            self.quotes += raw.quotes
            raise self._drop_row()
        self.size += len(raw)
        self.quotes += raw.count(b'"')
        if self.size > self.limits.max_record_bytes:
            raise self._drop_row()
        if b"\0" in raw:
            self.problem = self.problem or "a NUL byte: not a text CSV file"
            raw = raw.replace(b"\0", b"")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problem = self.problem or "not UTF-8"
            text = raw.decode("utf-8", "replace")
        if self.number == 1:
            text = text.lstrip("\ufeff")
            if text.startswith("#TYPE"):
                self.next_row()
                return next(self)
        return text.rstrip("\r\n") + "\n"

    def _drop_row(self) -> _SkipRow:
        """Read to the end of the row (to where its quotes close), dropping it."""
        while self.quotes % 2:
            raw = next(self.lines, None)
            if raw is None:
                break
            self.number += 1
            self.quotes += raw.quotes if isinstance(raw, Overlong) else raw.count(b'"')
        return _SkipRow(self.start, self.limits.too_long)


def _csv_rows(stream: IO[bytes], limits: Limits) -> Iterator[tuple[int, list[str] | str]]:
    """CSV rows with the line each starts on (the header is the first); (line, why) for a
    row that cannot be read."""
    # csv refuses a field over its limit (128 KiB unless set; the setting is process-wide):
    # the rows it is given here are within the record cap already.
    if csv.field_size_limit() < limits.max_record_bytes:
        csv.field_size_limit(limits.max_record_bytes)
    lines = _CsvLines(stream, limits)
    reader = csv.reader(lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except _SkipRow as skip:
            yield skip.line, skip.reason
            lines.next_row()
            continue
        except csv.Error as exc:
            yield lines.start, f"not CSV: {exc}"
            lines.next_row()
            continue
        start, problem = lines.start, lines.problem
        lines.next_row()
        if problem is not None:
            yield start, problem
        elif any(row):
            yield start, row


def _header(line: int, problem: str) -> InputError:
    # The rows after a header that cannot be read would be read against the wrong columns.
    return InputError(f"line {line}: the CSV header cannot be read: {problem}")


def read_ual_csv(stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
    """Search-UnifiedAuditLog | Export-Csv: the record is the JSON in the AuditData column."""
    column = -1
    for line, row in _csv_rows(stream, limits):
        if isinstance(row, str):
            if column < 0:
                raise _header(line, row)
            yield line, row
        elif column < 0:
            if "AuditData" not in row:
                raise InputError("no AuditData column in the CSV header")
            column = row.index("AuditData")
        elif len(row) <= column:
            yield line, f"row has {len(row)} columns, AuditData is column {column + 1}"
        elif deeper_than(row[column], limits.max_depth):
            yield line, f"AuditData is {limits.too_deep}"
        else:
            try:
                value = json.loads(row[column])
            except ValueError as exc:
                yield line, f"AuditData is not JSON: {exc}"
                continue
            yield from records(line, value)


def read_csv(stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
    """A CSV export whose columns are the record's fields (message trace)."""
    header: list[str] = []
    for line, row in _csv_rows(stream, limits):
        if isinstance(row, str):
            if not header:
                raise _header(line, row)
            yield line, row
        elif not header:
            header = row
        elif len(row) != len(header):
            yield line, f"row has {len(row)} columns, the header {len(header)}"
        else:
            yield line, dict(zip(header, row, strict=True))


def read_zeek(stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
    """Zeek logs as JSON lines, or Zeek's TSV with its #fields header."""
    first = stream.readline(limits.max_record_bytes + 1)
    stream = prepended(first, stream)
    if not first.startswith(b"#separator"):
        yield from ndjson(line_pieces(stream, limits.max_record_bytes), limits)
        return
    fields: list[str] = []
    for line, text, problem in _text_lines(stream, limits):
        if problem is not None:
            yield line, problem
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


def _line_records(parse: Callable[[str], dict[str, str]]) -> Reader:
    """A reader of a one-record-per-line text log; a line ``parse`` refuses is reported."""

    def read(stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
        for line, text, problem in _text_lines(stream, limits):
            if problem is not None:
                yield line, problem
            elif text.strip():
                try:
                    yield line, parse(text)
                except RecordFormatError as exc:
                    yield line, str(exc)

    return read


def _read_nothing(stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
    return iter(())


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
EMPTY = FileFormat("empty", "an empty file", UAL, _read_nothing)
# The file format of a JSON file whose records are of a record format.
_JSON_FORMATS: dict[str, FileFormat] = {
    f.record.name: f for f in FILE_FORMATS.values() if f.read is read_json or (f.record is ZEEK)
}
_TEXT_FORMATS = {"fortigate": fortigate_record, "squid": squid_record}


def known_formats() -> str:
    return "; ".join(f"{f.name} ({f.title})" for f in FILE_FORMATS.values())


# What a path that is no regular file is, by its mode: reading one would block (a FIFO with no
# writer, a terminal), never end (/dev/zero) or act on a device.
_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def not_a_file(mode: int) -> str | None:
    """What a file of this mode is when it is no regular file; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _SPECIAL if test(mode)), "not a regular file")


def _refused(what: str) -> InputError:
    return InputError(f"{what}, not a regular file: dac hunt reads log files only")


def check_file(path: Path) -> None:
    """InputError, before anything opens it, when ``path`` is no regular file."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}") from exc
    what = not_a_file(mode)
    if what is not None:
        raise _refused(what)


def open_log(path: Path) -> tuple[IO[bytes], Callable[[], int]]:
    """The file's bytes (gunzipped when it is gzip) and a function giving how many bytes of
    the file on disk have been consumed (for the progress bar). InputError for a path that is
    no regular file, without blocking: it is opened non-blocking, and checked again once
    open (it may have been replaced since it was listed)."""
    check_file(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror or exc}") from exc
    what = not_a_file(os.fstat(fd).st_mode)
    if what is not None:
        os.close(fd)
        raise _refused(what)
    os.set_blocking(fd, True)
    raw = io.BufferedReader(io.FileIO(fd, "rb"), _BUFFER)
    magic = raw.peek(2)[:2]
    if magic == _GZIP_MAGIC:
        unpacked = gzip.GzipFile(fileobj=raw, mode="rb")
        return io.BufferedReader(unpacked, _BUFFER), raw.tell
    return raw, raw.tell


def sniff(path: Path, limits: Limits = DEFAULT_LIMITS) -> FileFormat:
    """The file's format, from the structure of its first record; InputError saying what was
    seen and naming the formats known."""
    stream, _ = open_log(path)
    try:
        with stream:
            kind, record = sniff_stream(stream, _TEXT_FORMATS, limits)
    except Blank:
        return EMPTY
    except NotRecognised as exc:
        raise UnknownFormat(
            f"unknown format: {exc}; the formats known are: {known_formats()}"
        ) from exc
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read: {read_failure(exc)}") from exc
    if record is None:
        return FILE_FORMATS[kind]
    return _JSON_FORMATS[record.name]
