"""`dac hunt` inputs: format detection per file, gzip, JSON documents and NDJSON, CSV exports,
text logs, line numbers, malformed records, and the rows of formats no rule reads yet."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from converters.engine.formats import (
    ENTRA,
    GWS,
    MESSAGE_TRACE_FORMAT,
    SQUID,
    ZEEK,
    squid_record,
)
from converters.engine.rowtools import flatten, row_time
from converters.hunt.readers import FILE_FORMATS, InputError, Item, open_log, sniff

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
EVENTS = REPO / "tests" / "events"


def _records(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data["items"] if isinstance(data, dict) else data)


def read(path: Path, fmt: str | None = None) -> list[Item]:
    stream, _position = open_log(path)
    with stream:
        return list(FILE_FORMATS[fmt or sniff(path).name].read(stream))


def _ual_csv(records: list[object], type_line: bool = False) -> str:
    out = io.StringIO()
    if type_line:
        out.write("#TYPE Deserialized.Microsoft.Exchange.Management.AuditRecord\r\n")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["RecordType", "CreationDate", "UserIds", "Operations", "AuditData"])
    for n, record in enumerate(records):
        data = record if isinstance(record, str) else json.dumps(record, indent=1)
        writer.writerow(["ExchangeAdmin", "11/20/2026 1:05:44 PM", "a@b", f"op{n}", data])
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gws_admin_activities.json", "gws"),
        ("gws_login_gmail.ndjson.gz", "gws"),
        ("m365_management_activity.json", "ual"),
        ("m365_audit_search.csv", "ual-csv"),
        ("entra_directory_audits.json", "entra"),
        ("m365_message_trace.csv", "message-trace"),
        ("zeek_dns.log", "zeek-dns"),
        ("squid_access.log", "squid"),
    ],
)
def test_every_example_format_is_detected_and_read_whole(name: str, expected: str) -> None:
    path = EXAMPLES / name
    assert sniff(path).name == expected
    items = read(path)
    assert items and all(isinstance(record, dict) for _line, record in items), items


def test_detection_reads_gzip_and_ndjson(tmp_path: Path) -> None:
    records = _records(EVENTS / "m365" / "bulk_5_in_40min.json")
    plain = tmp_path / "ual.ndjson"
    plain.write_text("".join(json.dumps(r) + "\n" for r in records))
    packed = tmp_path / "ual.log.gz"  # the name says nothing: the bytes do
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, packed):
        assert sniff(path).name == "ual"
        items = read(path)
        assert [line for line, _r in items] == [1, 2, 3, 4, 5]
        assert [r["Id"] for _l, r in items] == [r["Id"] for r in records]  # type: ignore[index]


def test_ndjson_with_a_bom_and_blank_lines(tmp_path: Path) -> None:
    records = _records(EVENTS / "m365" / "bulk_5_in_40min.json")[:2]
    path = tmp_path / "ual.ndjson"
    path.write_bytes(b"\xef\xbb\xbf\n" + b"\n".join(json.dumps(r).encode() for r in records))
    assert sniff(path).name == "ual"
    assert [(line, r["Id"]) for line, r in read(path)] == [  # type: ignore[index]
        (2, records[0]["Id"]),
        (3, records[1]["Id"]),
    ]


def test_reports_api_pages_one_per_line(tmp_path: Path) -> None:
    page = json.loads((EVENTS / "gws" / "bulk_5_in_40min.json").read_text())
    path = tmp_path / "pages.ndjson"
    path.write_text(
        json.dumps(page) + "\n" + json.dumps({**page, "items": page["items"][:2]}) + "\n"
    )
    items = read(path)
    assert sniff(path).name == "gws"
    assert [line for line, _r in items] == [1] * 5 + [2] * 2


def test_json_document_records_carry_their_line() -> None:
    path = EVENTS / "m365" / "bulk_5_in_40min.json"
    lines = path.read_text().splitlines()
    for line, record in read(path):
        assert lines[line - 1].strip() == "{", (line, record)
        assert json.dumps(record["CreationTime"]) in lines[line]  # type: ignore[index]


def test_malformed_ndjson_lines_are_reported_at_their_line(tmp_path: Path) -> None:
    good = json.dumps(_records(EVENTS / "m365" / "add_user_single.json")[0])
    path = tmp_path / "ual.ndjson"
    path.write_bytes((good + "\n{not json\n\n" + good + "\n[1, 2]\n").encode() + b'{"x": "\xff"}\n')
    items = read(path, "ual")
    assert [(line, type(r).__name__) for line, r in items] == [
        (1, "dict"),
        (2, "str"),
        (4, "dict"),
        (5, "str"),
        (5, "str"),
        (6, "str"),
    ]
    assert "malformed JSON" in str(items[1][1])
    assert "not UTF-8" in str(items[-1][1])


def test_broken_element_of_a_pretty_array_is_skipped_and_reading_resumes(tmp_path: Path) -> None:
    records = _records(EVENTS / "m365" / "bulk_5_in_40min.json")
    text = json.dumps(records, indent=2)
    broken = text.replace('"Operation": "Add user."', '"Operation": Add user.', 1)
    path = tmp_path / "ual.json"
    path.write_text(broken)
    items = read(path)
    errors = [(line, r) for line, r in items if isinstance(r, str)]
    assert len(errors) == 1 and errors[0][0] == 2, errors
    assert [r["Id"] for _l, r in items if isinstance(r, dict)] == [r["Id"] for r in records[1:]]


def test_search_unifiedauditlog_csv(tmp_path: Path) -> None:
    records = _records(EVENTS / "m365" / "bulk_5_in_40min.json")[:2]
    path = tmp_path / "search.csv"
    # AuditData spans several lines; PowerShell's #TYPE line comes first; one row is broken.
    path.write_text(_ual_csv([records[0], "{broken", records[1]], type_line=True))
    assert sniff(path).name == "ual-csv"
    items = read(path)
    assert [type(r).__name__ for _l, r in items] == ["dict", "str", "dict"]
    assert [r["Id"] for _l, r in items if isinstance(r, dict)] == [r["Id"] for r in records]
    text = path.read_text().splitlines()
    for line, record in items:
        assert text[line - 1].startswith('"ExchangeAdmin"'), (line, record)
    assert "AuditData is not JSON" in str(items[1][1])


def test_message_trace_and_squid_and_zeek_tsv(tmp_path: Path) -> None:
    rows = read(EXAMPLES / "m365_message_trace.csv")
    assert rows[0][0] == 2 and MESSAGE_TRACE_FORMAT.inspect(rows[0][1])[0] == "m365_message_trace"  # type: ignore[arg-type]
    zeek = tmp_path / "dns.log"
    zeek.write_text(
        "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tquery\tanswers\n"
        "#types\ttime\tstring\taddr\tstring\tvector[string]\n"
        "1795175400.0\tCab12\t10.0.0.1\tmailinator.com\t1.2.3.4,5.6.7.8\n"
        "1795175401.0\tCab13\t10.0.0.1\t-\n"
    )
    items = read(zeek)
    assert sniff(zeek).name == "zeek-dns"
    assert items[0] == (
        5,
        {
            "ts": "1795175400.0",
            "uid": "Cab12",
            "id.orig_h": "10.0.0.1",
            "query": "mailinator.com",
            "answers": ["1.2.3.4", "5.6.7.8"],
        },
    )
    assert items[1][0] == 6 and "values for" in str(items[1][1])
    assert ZEEK.rows(items[0][1])[0]["dac_event_id"] == "Cab12"  # type: ignore[arg-type]
    squid = squid_record(
        "1795175461.250    312 10.20.0.15 TCP_TUNNEL/200 5230 CONNECT "
        "www.guerrillamail.com:443 - HIER_DIRECT/94.130.21.65 -"
    )
    assert squid["url"] == "www.guerrillamail.com:443" and squid["status"] == "200"
    row = SQUID.rows(squid)[0]
    assert row["timestamp"] == "2026-11-20T11:51:01.250"
    # Squid writes no id: time and client locate the line (tests/test_network_sources.py).
    assert row["dac_event_id"] == "1795175461.250:10.20.0.15" and row["dac_source"] == "proxy"


def test_unknown_format_names_the_formats_known(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n")
    with pytest.raises(InputError) as caught:
        sniff(path)
    for name in FILE_FORMATS:
        assert name in str(caught.value)


def test_rows_of_sources_without_rules_are_raw_names_flattened() -> None:
    graph = json.loads((EXAMPLES / "entra_directory_audits.json").read_text())
    row = ENTRA.rows(graph["value"][0])[0]
    assert row["activityDisplayName"] == "Add user"
    assert row["initiatedBy.user.userPrincipalName"] == "admin@contoso.onmicrosoft.com"
    assert row["targetResources.userPrincipalName"] == ["new.hire1@contoso.onmicrosoft.com"]
    assert row["targetResources.modifiedProperties.displayName"] == [
        "AccountEnabled",
        "UserPrincipalName",
    ]
    assert row["dac_source"] == "entra_audit" and row["dac_event_id"] == graph["value"][0]["id"]
    assert row["timestamp"] == "2026-11-20T10:05:00.123"
    gmail = next(r for _l, r in read(EXAMPLES / "gws_login_gmail.ndjson.gz") if "gmail" in str(r))
    # A Reports API Gmail activity gives the Gmail source's canonical row: the BigQuery
    # export's names (converters.datasources.gws_gmail), the mailbox in "email".
    row = GWS.rows(gmail)[0]  # type: ignore[arg-type]
    assert row["dac_source"] == "gws_gmail" and row["event_name"] == "delivery"
    assert row["event_info.mail_event_type"] == "1"
    assert row["message_info.source.address"] == "sales.rep1@example.com"
    assert row["email"] == gmail["actor"]["email"]  # type: ignore[index]
    assert flatten({"a": [{"b": 1}, {"b": [2, 3]}, {"c": None}], "d": True}) == {
        "a.b": ["1", "2", "3"],
        "d": "true",
    }


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_what_inspection_tells_the_rows_say(path: Path) -> None:
    fmt = sniff(path)
    for _line, record in read(path):
        assert isinstance(record, dict)
        source, count, when = fmt.record.inspect(record)
        rows = fmt.record.rows(record)
        assert len(rows) == count
        for row in rows:
            assert row["dac_source"] == source
            assert row["timestamp"] == row_time(when)


def _hunt(*args: Path | str) -> tuple[int, str]:
    from click.testing import CliRunner

    from converters.cli import main

    root = Path(__file__).resolve().parent.parent
    result = CliRunner().invoke(main, ["hunt", "--root", str(root), *map(str, args)])
    return result.exit_code, result.output


def test_detection_reads_as_far_as_the_first_record_needs(tmp_path: Path) -> None:
    """A UAL export whose first record holds a 100 KB UserId, as an array and as NDJSON."""
    records = _records(EVENTS / "m365" / "bulk_5_in_40min.json")
    records[0]["UserId"] = "x" * 100_000 + "@contoso.onmicrosoft.com"
    for name, text in (
        ("array.json", json.dumps(records, indent=2)),
        ("lines.json", "".join(json.dumps(r) + "\n" for r in records)),
    ):
        path = tmp_path / name
        path.write_text(text)
        assert sniff(path).name == "ual", name
        assert len([r for _l, r in read(path) if isinstance(r, dict)]) == len(records)


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("objects.json", '{"time": 1, "msg": "hello"}\n', "no record of a known format"),
        ("empty-page.json", '{"value": []}', "the JSON holds no records"),
        ("notes.txt", "meeting at ten\nbring the slides\n", "no known record or header"),
    ],
)
def test_a_file_of_no_known_shape_fails_with_its_name(
    tmp_path: Path, name: str, text: str, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    code, output = _hunt(path)
    assert code == 2
    assert str(path) in output and reason in output


def test_a_file_with_no_recognised_record_is_an_error(tmp_path: Path) -> None:
    """A message trace export with its header only, and one whose every row is broken: the
    file holds something, none of it a record."""
    header = tmp_path / "trace.csv"
    header.write_text('"Received","SenderAddress","RecipientAddress","Subject"\r\n')
    code, output = _hunt(header)
    assert code == 2
    assert f"{header}: no Microsoft 365 message trace record recognised" in output
    broken = tmp_path / "squid.log"
    broken.write_text("1795180001.250 412 10.20.0.15 TCP_TUNNEL/200 6120 CONNECT\nnot squid\n")
    code, output = _hunt("--format", "squid", broken)
    assert code == 2
    assert f"{broken}: no Squid access.log record recognised (2 read, 2 skipped)" in output


def test_an_empty_file_is_listed_and_is_no_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("\n\n")
    code, output = _hunt(empty)
    assert code == 0, output
    assert "empty" in output


def test_a_ual_record_needs_every_common_key() -> None:
    from converters.engine.adapters import _UAL_KEYS
    from converters.engine.formats import UAL

    record = {key: "x" for key in _UAL_KEYS}
    assert UAL.looks_like(record)
    for key in _UAL_KEYS:
        assert not UAL.looks_like({k: v for k, v in record.items() if k != key})
