"""The proxy (Squid access.log) and firewall (FortiGate key=value) sources: parsing, the Sigma
rows and ids both engines share, malformed lines reported at their line, and `dac hunt` over
them end to end."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.engine.adapters import RecordFormatError
from converters.engine.formats import FORTIGATE, SQUID, squid_record
from converters.engine.netlogs import fortigate_record, fortigate_time, url_host
from converters.hunt.readers import FILE_FORMATS, Item, open_log, sniff

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"

SQUID_CONNECT = (
    "1795180001.250    412 10.20.0.15 TCP_TUNNEL/200 6120 CONNECT WWW.Guerrillamail.com:443 "
    "jdoe HIER_DIRECT/198.51.100.40 -"
)
SQUID_GET = (
    "1795180061.500     93 10.20.0.22 TCP_MISS/200 512 GET http://www.mailinator.com/v4/ "
    "- HIER_DIRECT/198.51.100.41 text/html"
)
# A traffic log names no host (its web filter log, same sessionid, does).
FGT_TRAFFIC = (
    'date=2026-11-20 time=13:06:41 devname="fgt-hq" eventtime=1795180001123456789 tz="+0000" '
    'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
    "srcip=10.20.0.15 srcport=51544 dstip=198.51.100.41 dstport=443 sessionid=870012 proto=6 "
    'action="close" policyid=12 policyname="LAN to Internet" user="N/A" unauthuser="jdoe" '
    'service="HTTPS" utmaction="allow" countweb=1'
)
FGT_UTM = (
    'date=2026-11-20 time=13:06:41 logid="0317013312" type="utm" subtype="webfilter" '
    'eventtime=1795180001 srcip=10.20.0.15 hostname="mailinator.com" action="passthrough"'
)
FGT_EVENT = (
    'date=2026-11-20 time=13:07:02 logid="0100032001" type="event" subtype="system" '
    'eventtime=1795180022 user="admin" action="login" status="success" msg="Administrator admin'
    ' logged in successfully from GUI(10.20.0.9)"'
)


def read(path: Path) -> list[Item]:
    stream, _position = open_log(path)
    with stream:
        return list(FILE_FORMATS[sniff(path).name].read(stream))


def hunt(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["hunt", "--root", str(REPO), *map(str, args)])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("url", "method", "host"),
    [
        ("WWW.Guerrillamail.com:443", "CONNECT", "WWW.Guerrillamail.com"),
        ("[2001:db8::1]:443", "CONNECT", "2001:db8::1"),
        ("http://mailinator.com/", "GET", "mailinator.com"),
        ("http://user:pw@www.yopmail.com:8080/x?y=z", "POST", "www.yopmail.com"),
        ("https://a.mail.tm?q=1", "GET", "a.mail.tm"),
        ("-", "NONE", None),
        ("error:invalid-request", "NONE", None),
    ],
)
def test_url_host(url: str, method: str, host: str | None) -> None:
    assert url_host(url, method) == host


def test_squid_rows_carry_the_sigma_proxy_names() -> None:
    row = SQUID.rows(squid_record(SQUID_CONNECT))[0]
    assert row["dac_source"] == "proxy"
    assert row["dac_event_id"] == "1795180001.250:10.20.0.15"
    assert {k: row[k] for k in ("c-uri", "cs-host", "cs-method", "sc-status", "c-ip")} == {
        "c-uri": "WWW.Guerrillamail.com:443",
        "cs-host": "WWW.Guerrillamail.com",
        "cs-method": "CONNECT",
        "sc-status": "200",
        "c-ip": "10.20.0.15",
    }
    assert row["cs-username"] == "jdoe"
    plain = SQUID.rows(squid_record(SQUID_GET))[0]
    assert plain["cs-host"] == "www.mailinator.com" and plain["cs-username"] is None


def test_fortigate_pairs_quotes_and_syslog_headers() -> None:
    record = fortigate_record(FGT_TRAFFIC)
    assert record["policyname"] == "LAN to Internet" and record["srcip"] == "10.20.0.15"
    for header in ("<189>", "Nov 20 13:06:41 fgt-hq ", "<189>Nov 20 13:06:41 fgt-hq "):
        assert fortigate_record(header + FGT_TRAFFIC) == record
    escaped = fortigate_record('logid="1" type="event" msg="said \\"hi\\"" empty= date=2026-11-20')
    assert escaped["msg"] == 'said "hi"' and escaped["empty"] == ""


def test_fortigate_rows_and_sources() -> None:
    record = fortigate_record(FGT_TRAFFIC)
    source, count, when = FORTIGATE.inspect(record)
    assert (source, count) == ("firewall", 1)
    assert when == datetime(2026, 11, 20, 13, 6, 41, 123457, tzinfo=UTC)
    row = FORTIGATE.rows(record)[0]
    assert row["dst_hostname"] is None and row["dst_port"] == "443"
    # "N/A" is FortiOS's unset value; the unauthenticated name wins as in the integration.
    assert row["username"] == "jdoe" and row["action"] == "close"
    assert row["dac_event_id"] == "870012:1795180001123456789"
    # Security-profile logs are the firewall source too, with the host they inspected.
    utm = FORTIGATE.rows(fortigate_record(FGT_UTM))[0]
    assert utm["dac_source"] == "firewall" and utm["dst_hostname"] == "mailinator.com"
    assert utm["subtype"] == "webfilter" and utm["logid"] == "0317013312"
    # Other log types are read and counted, under a source no rule reads.
    assert FORTIGATE.inspect(fortigate_record(FGT_EVENT))[0] == "fortigate_event"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"eventtime": "1795180001"}, datetime(2026, 11, 20, 13, 6, 41, tzinfo=UTC)),
        ({"eventtime": "1795180001500"}, datetime(2026, 11, 20, 13, 6, 41, 500000, tzinfo=UTC)),
        (
            {"date": "2026-11-20", "time": "06:06:41", "tz": "-0700"},
            datetime(2026, 11, 20, 13, 6, 41, tzinfo=UTC),
        ),
        ({"date": "2026-11-20", "time": "13:06:41"}, datetime(2026, 11, 20, 13, 6, 41, tzinfo=UTC)),
    ],
)
def test_fortigate_time(fields: dict[str, str], expected: datetime) -> None:
    assert fortigate_time(fields) == expected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('logid="1" type="traffic" msg="unterminated', "key=value pair at column 26"),
        ('date=2026-11-20 srcip=10.0.0.1 action="close"', "no logid and type"),
        ("just some text", "no key=value pairs"),
    ],
)
def test_fortigate_malformed_lines_say_why(line: str, reason: str) -> None:
    with pytest.raises(RecordFormatError, match=reason):
        fortigate_record(line)


def test_malformed_lines_are_reported_at_their_line(tmp_path: Path) -> None:
    fortigate = tmp_path / "fgt.log"
    fortigate.write_text(f'{FGT_TRAFFIC}\n\nlogid="1" type="x" broken"\n{FGT_UTM}\n')
    assert sniff(fortigate).name == "fortigate"
    items = read(fortigate)
    assert [line for line, _item in items] == [1, 3, 4]
    assert isinstance(items[1][1], str) and "column" in items[1][1]
    squid = tmp_path / "access.log"
    squid.write_text(f"{SQUID_CONNECT}\nTCP_MISS/200 half a line\n{SQUID_GET}\n")
    assert sniff(squid).name == "squid"
    items = read(squid)
    assert [line for line, _item in items] == [1, 2, 3]
    assert items[1][1] == "not a Squid access.log line (10 fields, native format)"


def test_gzip_fortigate_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "fgt.log.gz"
    path.write_bytes(gzip.compress(f"<189>{FGT_TRAFFIC}\n".encode()))
    assert sniff(path).name == "fortigate"
    assert read(path)[0][1] == fortigate_record(FGT_TRAFFIC)


def test_hunt_alerts_on_proxy_and_firewall_logs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    proxy = (EVENTS / "proxy").glob("*.log")
    (logs / "access.log").write_text("".join(p.read_text() for p in sorted(proxy)) + "oops\n")
    firewall = (EVENTS / "firewall").glob("*.log")
    (logs / "fgt.log").write_text("".join(p.read_text() for p in sorted(firewall)) + FGT_EVENT)
    out = tmp_path / "alerts.jsonl"
    code, output = hunt(logs, "--indicator", "disposable-email-service-traffic", "--out", out)
    assert code == 0, output
    assert "skipped" in output and "access.log:14: not a Squid access.log line" in output
    assert "fortigate_event: 1 event" in output  # read and counted, no rule reads it
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    by_rule: dict[str, list[list[str]]] = {}
    for alert in alerts:
        ids = [e["id"] for e in alert["evidence"]]
        by_rule.setdefault(alert["rule_title"], []).append(ids)
    # One alert per client within the hour (converters/incidents.py).
    assert sorted(by_rule["Proxy Request to a Disposable Email Service"]) == [
        [
            "1795180001.250:10.20.0.15",  # CONNECT WWW.Guerrillamail.com:443
            "1795180061.500:10.20.0.15",  # GET http://mailinator.com/
        ],
        ["1795180122.750:10.20.0.22"],  # GET http://www.yopmail.com/en/
        ["1795180183.000:10.20.0.31"],  # denied CONNECT temp-mail.org:443
    ]
    # Web filter, application control, a blocked visit, and a DNS query with its answer:
    # five events of three clients, one alert per client.
    firewall_alerts = by_rule["Firewall Session to a Disposable Email Service"]
    assert sorted(map(len, firewall_alerts)) == [1, 2, 2]
