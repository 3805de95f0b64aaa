"""`dac hunt` caps a record's size and nesting depth in every reader: a record over a cap is
skipped, counted and reported with its file and line, and reading goes on; memory stays
bounded whatever a file holds (a 2 GB line is never held, a JSON document is read element by
element); a CSV row with NUL bytes, or that csv refuses, is a skipped record."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.hunt.jsonread import read_json
from converters.hunt.limits import Limits, byte_size, parse_size
from converters.hunt.readers import FILE_FORMATS, Item, open_log, sniff

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"
DEEP = "[" * 100_000 + "]" * 100_000
SHALLOW_BUT_DEEP = "[" * 1000 + "]" * 1000  # over the depth cap, under SMALL's size cap
SMALL = Limits(max_record_bytes=4096)
ROOMY = Limits(max_record_bytes=1 << 20)
PROC_STATUS = Path("/proc/self/status")


def _records() -> list[dict[str, Any]]:
    data = json.loads((EVENTS / "m365" / "bulk_5_in_40min.json").read_text(encoding="utf-8"))
    return list(data)


def read(path: Path, limits: Limits = SMALL, fmt: str | None = None) -> list[Item]:
    stream, _position = open_log(path)
    with stream:
        return list(FILE_FORMATS[fmt or sniff(path, limits).name].read(stream, limits))


def shape(items: list[Item]) -> list[tuple[int, str]]:
    """(line, the record's Id or why it was skipped)."""
    return [(line, r if isinstance(r, str) else str(r["Id"])) for line, r in items]


def nested(levels: int) -> object:
    value: object = "bottom"
    for _ in range(levels - 1):
        value = [value]
    return {"deep": value}  # the record's own braces are a level


def hunt(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["hunt", "--root", str(REPO), *map(str, args)])
    return result.exit_code, result.output.replace("\n", "")


# NDJSON


def test_an_ndjson_line_over_the_cap_is_one_skipped_record(tmp_path: Path) -> None:
    records = _records()
    path = tmp_path / "ual.ndjson"
    long = {**records[1], "UserId": "x" * 10_000}
    lines = [records[0], long, records[2], SHALLOW_BUT_DEEP, records[3]]
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in lines))
    assert shape(read(path)) == [
        (1, records[0]["Id"]),
        (2, SMALL.too_long),
        (3, records[2]["Id"]),
        (4, SMALL.too_deep),
        (5, records[3]["Id"]),
    ]


def test_a_first_line_over_the_cap_neither_hides_the_format_nor_the_rest(tmp_path: Path) -> None:
    records = _records()
    path = tmp_path / "ual.ndjson"
    first = json.dumps({**records[0], "UserId": "x" * 10_000})
    path.write_text(first + "\n" + "".join(json.dumps(r) + "\n" for r in records[1:]))
    assert sniff(path, SMALL).name == "ual"
    assert shape(read(path)) == [
        (1, SMALL.too_long),
        *((n, r["Id"]) for n, r in enumerate(records[1:], 2)),
    ]
    # A JSON array on one line, longer than the cap: read element by element.
    path.write_text(json.dumps(records * 4) + "\n")
    assert [line for line, _r in read(path)] == [1] * 20


def test_the_depth_cap_is_exact_and_can_be_changed(tmp_path: Path) -> None:
    path = tmp_path / "ual.ndjson"
    record = _records()[0]
    path.write_text("".join(json.dumps({**record, **nested(n)}) + "\n" for n in (64, 65, 3, 4)))
    assert [r if isinstance(r, str) else "read" for _l, r in read(path, ROOMY)] == [
        "read",
        ROOMY.too_deep,
        "read",
        "read",
    ]
    three = Limits(max_record_bytes=1 << 20, max_depth=3)
    assert [isinstance(r, str) for _l, r in read(path, three)] == [True, True, False, True]
    pretty = tmp_path / "ual.json"
    pretty.write_text(json.dumps([{**record, **nested(n)} for n in (64, 65, 3, 4)], indent=2))
    assert [isinstance(r, str) for _l, r in read(pretty, ROOMY)] == [False, True, False, False]
    assert [isinstance(r, str) for _l, r in read(pretty, three)] == [True, True, False, True]


# JSON documents


def test_document_elements_over_a_cap_are_skipped_at_their_line(tmp_path: Path) -> None:
    records = _records()
    elements: list[object] = [
        records[0],
        {**records[1], "UserId": "x" * 10_000},
        records[2],
        "@DEEP@",
        records[3],
    ]
    for wrap in (
        lambda e: e,
        lambda e: {"kind": "admin#reports#activities", "nextPageToken": "y" * 10_000, "items": e},
        lambda e: {"@odata.context": "c", "value": e},
        lambda e: {"d": {"results": e}},
        lambda e: {"records": e},
    ):
        path = tmp_path / "ual.json"
        path.write_text(json.dumps(wrap(elements), indent=2).replace('"@DEEP@"', SHALLOW_BUT_DEEP))
        items = read(path)
        assert [r if isinstance(r, str) else r["Id"] for _l, r in items] == [
            records[0]["Id"],
            SMALL.too_long,
            records[2]["Id"],
            SMALL.too_deep,
            records[3]["Id"],
        ], path.read_text()[:200]
        lines = path.read_text().splitlines()
        assert all(lines[line - 1].lstrip()[:1] in ("{", "[") for line, _r in items)


def test_a_whole_document_over_a_cap_is_one_skipped_record(tmp_path: Path) -> None:
    path = tmp_path / "ual.json"
    record = {**_records()[0], "Note": "x" * 10_000}
    path.write_text(json.dumps(record, indent=2) + "\n")
    assert read(path, fmt="ual") == [(1, SMALL.too_long)]
    path.write_text(json.dumps({**_records()[0], **nested(100)}))
    assert read(path, fmt="ual") == [(1, SMALL.too_deep)]


def test_json_nested_100000_deep_is_skipped_wherever_it_is(tmp_path: Path) -> None:
    """No RecursionError, no traceback: a skipped record at its line, and the run goes on."""
    records = _records()
    ndjson = tmp_path / "ual.ndjson"
    ndjson.write_text(json.dumps(records[0]) + "\n" + DEEP + "\n" + json.dumps(records[1]) + "\n")
    pretty = tmp_path / "page.json"
    pretty.write_text('{"value": [\n' + json.dumps(records[0]) + ",\n" + DEEP + "]}")
    code, output = hunt("--format", "ual", ndjson, pretty)
    assert code == 0, output
    assert f"skipped {ndjson}:2: nested deeper than 64 levels (--max-depth)" in output
    assert f"skipped {pretty}:3: nested deeper than 64 levels (--max-depth)" in output
    assert "Traceback" not in output and "RecursionError" not in output
    # The whole file one value nested too deep: no record; an error naming the file.
    alone = tmp_path / "deep.json"
    alone.write_text("{" + '"a":[' * 100_000)
    code, output = hunt(alone)
    assert code == 2 and str(alone) in output and "Traceback" not in output


# CSV


def _trace(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["Received", "SenderAddress", "RecipientAddress", "Subject", "Status"])
    writer.writerows(rows)
    return out.getvalue()


def _row(n: int, subject: str = "hello") -> list[str]:
    return [f"2026-11-20T10:0{n}:00", f"a{n}@example.com", "b@contoso.com", subject, "Delivered"]


def test_csv_rows_with_nul_bytes_or_that_csv_refuses_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    text = _trace([_row(1), _row(2, "nul\0here"), _row(3), _row(4, "bare\rreturn"), _row(5)])
    path.write_bytes(text.replace('"bare\rreturn"', "bare\rreturn").encode())
    items = read(path)
    assert [(line, r if isinstance(r, str) else r["SenderAddress"]) for line, r in items] == [
        (2, "a1@example.com"),
        (3, "a NUL byte: not a text CSV file"),
        (4, "a3@example.com"),
        (5, "not CSV: new-line character seen in unquoted field - do you need to open the file "
         "in universal-newline mode?"),
        (6, "a5@example.com"),
    ]  # fmt: skip


def test_a_csv_row_over_the_cap_is_skipped_to_where_its_quotes_close(tmp_path: Path) -> None:
    """A quoted field spread over many lines, each short: the row is dropped from the line
    where it passes the cap to its last line; the rows after it are read at their lines."""
    path = tmp_path / "trace.csv"
    long = "\n".join(f"line {n} of a long body, with a comma" for n in range(400))
    wide = "x" * 200_000  # over csv's own default field limit (128 KiB), under the cap
    path.write_text(_trace([_row(1), _row(2, long), _row(3), _row(4, wide), _row(5)]))
    items = read(path, SMALL, "message-trace")
    assert [(line, r if isinstance(r, str) else r["SenderAddress"]) for line, r in items] == [
        (2, "a1@example.com"),
        (3, SMALL.too_long),
        (403, "a3@example.com"),
        (404, SMALL.too_long),
        (405, "a5@example.com"),
    ]
    roomy = read(path, Limits(max_record_bytes=1 << 20), "message-trace")
    assert [r["Subject"] for _l, r in roomy][1:4:2] == [long, wide]  # type: ignore[index]


def test_audit_data_over_the_caps(tmp_path: Path) -> None:
    records = _records()
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["CreationDate", "UserIds", "Operations", "AuditData"])
    for data in (json.dumps(records[0]), DEEP, json.dumps(records[1])):
        writer.writerow(["11/20/2026 1:05:44 PM", "a@b", "op", data])
    path = tmp_path / "search.csv"
    path.write_text(out.getvalue())
    assert shape(read(path, Limits(max_record_bytes=1 << 20))) == [
        (2, records[0]["Id"]),
        (3, f"AuditData is {SMALL.too_deep}"),
        (4, records[1]["Id"]),
    ]


# Text logs


def test_text_log_lines_over_the_cap(tmp_path: Path) -> None:
    squid = tmp_path / "access.log"
    line = (
        "1795175461.250    312 10.20.0.15 TCP_TUNNEL/200 5230 CONNECT "
        "www.guerrillamail.com:443 - HIER_DIRECT/94.130.21.65 -\n"
    )
    squid.write_text(line + line.replace(" - HIER", " " + "x" * 5000 + " - HIER") + line)
    assert [isinstance(r, str) and r for _l, r in read(squid)] == [False, SMALL.too_long, False]
    zeek = tmp_path / "dns.log"
    zeek.write_text(
        "#separator \\x09\n#fields\tts\tuid\tquery\n"
        "1795175400.0\tCab12\tmailinator.com\n"
        f"1795175401.0\tCab13\t{'x' * 5000}.com\n"
        "1795175402.0\tCab14\tmailinator.com\n"
    )
    assert [(line, isinstance(r, str) and r) for line, r in read(zeek)] == [
        (3, False),
        (4, SMALL.too_long),
        (5, False),
    ]


# Memory: measured in a process of its own, so that the peak is this reading's


_MEASURE = """
import json, sys
from pathlib import Path
from converters.hunt.limits import Limits
from converters.hunt.readers import open_log, sniff

def peak_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

path, limits = Path(sys.argv[1]), Limits(max_record_bytes=int(sys.argv[2]))
start = peak_mb()
fmt = sniff(path, limits)
stream, _position = open_log(path)
records, skipped = 0, []
with stream:
    for line, record in fmt.read(stream, limits):
        if isinstance(record, str):
            skipped.append([line, record])
        else:
            records += 1
print(json.dumps({"format": fmt.name, "records": records, "skipped": skipped,
                  "growth_mb": peak_mb() - start}))
"""


def measure(path: Path, cap: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), str(cap)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=REPO,
    )
    return dict(json.loads(done.stdout))


needs_proc = pytest.mark.skipif(not PROC_STATUS.exists(), reason="peak memory from /proc")


class _Made(io.RawIOBase):
    """A stream made as it is read, from pieces (never all in memory, never on disk)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        super().__init__()
        self.pieces = pieces
        self.piece = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.piece:
            following = next(self.pieces, None)
            if following is None:
                return 0
            self.piece = memoryview(following)
        count = min(len(buffer), len(self.piece))
        buffer[:count] = self.piece[:count]
        self.piece = self.piece[count:]
        return count


def test_a_2gb_ndjson_line_is_skipped_without_holding_it() -> None:
    good = json.dumps(_records()[0]).encode()
    block = b"x" * (1 << 20)
    pieces = itertools.chain(
        [good + b"\n" + b'{"Id": "'], itertools.repeat(block, 2048), [b'"}\n' + good + b"\n"]
    )
    stream = io.BufferedReader(_Made(pieces), 1 << 20)
    tracemalloc.start()
    try:
        items = read_json(stream, Limits())  # the default cap: 16 MiB
        found = [(line, r if isinstance(r, str) else r["Id"]) for line, r in items]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found == [(1, _records()[0]["Id"]), (2, Limits().too_long), (3, _records()[0]["Id"])]
    assert peak < 48 << 20, peak  # the cap and a piece or two, not the line


def test_an_element_over_the_cap_is_never_decoded() -> None:
    """The decoder builds objects many times the size of their text (a dict of 200 bytes
    from 25): an element of 40 MB of small objects, decoded again as it was read up to the
    cap, took 200 MB; it is measured first and skipped."""
    good = json.dumps(_records()[0]).encode()
    small = b'{"a": "b", "c": [1, 2]}, ' * ((1 << 20) // 25)
    pieces = itertools.chain(
        [b"[\n  " + good + b',\n  {"x": ['],
        itertools.repeat(small, 40),
        [b"1]},\n  " + good + b"]"],
    )
    stream = io.BufferedReader(_Made(pieces), 1 << 20)
    tracemalloc.start()
    try:
        found = [(line, r if isinstance(r, str) else r["Id"]) for line, r in read_json(stream)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    record = _records()[0]["Id"]
    assert found == [(2, record), (3, Limits().too_long), (4, record)]
    assert peak < 64 << 20, peak


@needs_proc
def test_a_long_line_of_a_file_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    """Opened, detected and read as `dac hunt` does; the line is a hole in a sparse file."""
    good = json.dumps(_records()[0]).encode()
    path = tmp_path / "ual.ndjson"
    with path.open("wb") as out:
        out.write(good + b"\n" + b'{"Id": "')
        out.seek(256 << 20, os.SEEK_CUR)
        out.write(b'"}\n' + good + b"\n")
    measured = measure(path, 1 << 20)
    assert measured["format"] == "ual" and measured["records"] == 2
    assert measured["skipped"] == [[2, Limits(1 << 20).too_long]]
    assert measured["growth_mb"] < 24, measured


@needs_proc
def test_a_json_document_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """A 64 MB pretty-printed array, one element of it 40 MB: reading it whole took twice the
    file in memory; element by element, a few pieces of 1 MiB."""
    record = json.dumps({**_records()[0], "Id": "@ID@"}, indent=2).replace("\n", "\n  ")
    path = tmp_path / "ual.json"
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        out.write('  {"Id": "huge", "Body": "' + "x" * (40 << 20) + '"},\n')
        count = 0
        while out.tell() < 64 << 20:
            out.write("  " + record.replace("@ID@", f"id-{count}") + ",\n")
            count += 1
        out.write("  " + record.replace("@ID@", "last") + "\n]\n")
    measured = measure(path, 1 << 20)
    assert measured["records"] == count + 1
    assert measured["skipped"] == [[2, Limits(1 << 20).too_long]]
    assert measured["growth_mb"] < 32, measured


@needs_proc
def test_a_csv_field_spread_over_many_lines_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(_trace([_row(1)]))
        out.write('"2026-11-20T10:02:00","a2@example.com","b@contoso.com","')
        out.writelines(f"line {n} of a body with a comma, and no end\n" for n in range(1_000_000))
        out.write('","Delivered"\r\n')
        out.write(_trace([_row(3)]).split("\r\n", 1)[1])
    measured = measure(path, 1 << 20)
    assert measured["format"] == "message-trace" and measured["records"] == 2
    assert measured["skipped"] == [[3, Limits(1 << 20).too_long]]
    assert measured["growth_mb"] < 32, measured


def test_caps_are_stated_in_the_units_they_were_set_in() -> None:
    assert byte_size(16 << 20) == "16 MiB" and byte_size(1000) == "1000 bytes"
    assert Limits().too_long == "longer than 16 MiB (--max-record-bytes)"
    assert Limits().too_deep == "nested deeper than 64 levels (--max-depth)"


# The command line


def test_the_caps_are_options_given_once() -> None:
    assert parse_size("16M") == parse_size("16MiB") == parse_size("16384k") == 16 << 20
    assert parse_size("1G") == 1 << 30 and parse_size("100") == 100
    for bad in (["--max-record-bytes", "0"], ["--max-record-bytes", "12Q"], ["--max-depth", "0"]):
        code, output = hunt(*bad, REPO / "examples")
        assert code == 2 and bad[0] in output, output
    code, output = hunt("--max-depth", "3", "--max-depth", "4", REPO / "examples")
    assert code == 2 and "may be given once" in output
    result = CliRunner().invoke(main, ["hunt", "--help"])
    assert "--max-record-bytes" in result.output and "16M" in result.output
    assert "--max-depth" in result.output and "64" in result.output


def test_skips_are_counted_and_named_with_file_and_line(tmp_path: Path) -> None:
    records = _records()
    path = tmp_path / "ual.ndjson"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in records[:2])
        + json.dumps({**records[2], "UserId": "x" * 2000})
        + "\n"
        + json.dumps({**records[3], **nested(4)})
        + "\n"
    )
    report = tmp_path / "report.md"
    code, output = hunt("--max-record-bytes", "2K", "--max-depth", "3", path, "--report", report)
    assert code == 0, output
    assert f"skipped {path}:3: longer than 2 KiB (--max-record-bytes)" in output
    assert f"skipped {path}:4: nested deeper than 3 levels (--max-depth)" in output
    # records, parsed, skipped, events
    assert f"| {path} | ual | 4 | 2 | 2 | 2 |" in report.read_text().replace("\\", "")
