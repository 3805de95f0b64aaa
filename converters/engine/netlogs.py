"""Text network logs -> named raw fields and Sigma values: the host of a Squid access.log URL,
and FortiGate ``key=value`` lines. The record formats themselves are wired in
converters.engine.formats; this module only parses.

Squid and FortiGate write no event id. A row's ``dac_event_id`` is built from fields of the
line that an analyst can search for (Squid: time and client; FortiGate: session id and event
time), so that both reference engines name the same evidence; ``dac hunt`` also gives each
alert's file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from converters.engine.adapters import RecordFormatError, SigmaRow

# A key=value pair of a FortiGate log: the value quoted (with \" escapes) or a bare word.
_FORTIGATE_PAIR = re.compile(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|$)')
# Where the pairs start: after an optional syslog header ("<189>", "Nov 20 11:51:01 fw01 ").
_FIRST_KEY = re.compile(r"(?:^|(?<=[\s>]))[A-Za-z0-9_.-]+=")
_UNQUOTE = re.compile(r"\\(.)")
# What FortiOS writes for an unset field; the Elastic integration drops it too.
_UNSET = "N/A"


def url_host(url: str, method: str) -> str | None:
    """The host a proxy request asked for: from ``host:port`` for CONNECT, else from an
    absolute URL; None for what Squid logs when there is none (``-``, ``error:...``)."""
    if method.upper() == "CONNECT":
        authority = url
    elif "://" in url:
        authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        authority = authority.rpartition("@")[2]  # user:password@host
    else:
        return None
    if authority.startswith("["):  # [IPv6]:port
        host = authority[1:].partition("]")[0]
    else:
        host = authority.rpartition(":")[0] if authority.count(":") == 1 else authority
    return host or None


def squid_fields(record: Mapping[str, str]) -> SigmaRow:
    """The Sigma proxy fields of one access.log entry (converters.datasources.proxy)."""
    url, method = record["url"], record["method"]

    def given(value: str) -> str | None:
        return None if value == "-" else value

    return {
        "c-uri": given(url),
        "cs-host": url_host(url, method),
        "cs-method": given(method),
        "sc-status": record["status"],
        "c-ip": record["remotehost"],
        "cs-username": given(record["rfc931"]),
    }


def squid_event_id(record: Mapping[str, str]) -> str:
    return f"{record['time']}:{record['remotehost']}"


def fortigate_record(line: str) -> dict[str, str]:
    """One FortiGate log line as its key=value pairs (quotes removed); RecordFormatError
    naming the column where the pairs stop making sense."""
    start = _FIRST_KEY.search(line)
    if start is None:
        raise RecordFormatError("not a FortiGate log line (no key=value pairs)")
    record: dict[str, str] = {}
    position = start.start()
    text = line.rstrip()
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        pair = _FORTIGATE_PAIR.match(text, position)
        if pair is None:
            raise RecordFormatError(
                f"not a FortiGate key=value pair at column {position + 1}: "
                f"{text[position : position + 30]!r}"
            )
        key, value = pair.group(1), pair.group(2)
        if value.startswith('"'):
            value = _UNQUOTE.sub(r"\1", value[1:-1])
        record[key] = value
        position = pair.end()
    if "logid" not in record or "type" not in record:
        raise RecordFormatError("not a FortiGate log line (no logid and type)")
    return record


def is_fortigate(record: Mapping[str, object]) -> bool:
    return "logid" in record and "type" in record and ("eventtime" in record or "date" in record)


def fortigate_time(record: Mapping[str, str]) -> datetime:
    """``eventtime`` (epoch in s, ms, us or ns by FortiOS version) when present, else
    ``date`` and ``time`` in the device's ``tz`` (UTC when none is logged)."""
    epoch = record.get("eventtime", "")
    if epoch.isdigit():
        digits = len(epoch)
        scale = 1e9 if digits > 18 else 1e6 if digits > 15 else 1e3 if digits > 11 else 1.0
        return datetime.fromtimestamp(int(epoch) / scale, UTC)
    date, clock = record.get("date"), record.get("time")
    if date is None or clock is None:
        raise RecordFormatError("FortiGate log line without eventtime, date or time")
    zone = record.get("tz", "+0000").replace(":", "")
    try:
        parsed = datetime.strptime(f"{date} {clock} {zone}", "%Y-%m-%d %H:%M:%S %z")
    except ValueError as exc:
        raise RecordFormatError(f"FortiGate date/time/tz not understood: {exc}") from exc
    return parsed.astimezone(UTC)


def fortigate_fields(record: Mapping[str, str]) -> SigmaRow:
    """The Sigma firewall fields of one traffic or security-profile (utm) log line
    (converters.datasources.firewall)."""

    def given(key: str) -> str | None:
        value = record.get(key)
        return None if value in (None, "", _UNSET) else value

    return {
        "src_ip": given("srcip"),
        "src_port": given("srcport"),
        "dst_ip": given("dstip"),
        "dst_port": given("dstport"),
        "dst_hostname": given("hostname"),
        "query": given("qname"),
        "action": given("action"),
        "subtype": given("subtype"),
        "logid": given("logid"),
        # As the Elastic integration: the unauthenticated name first, then the user.
        "username": given("unauthuser") or given("user"),
    }


def fortigate_event_id(record: Mapping[str, str]) -> str:
    parts = [record.get("sessionid"), record.get("eventtime")]
    found = [p for p in parts if p]
    if not found:
        found = [record.get(k, "") for k in ("date", "time", "srcip")]
    return ":".join(found)
