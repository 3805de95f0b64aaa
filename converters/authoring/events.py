"""Example test events for `dac new`, in each source's raw format (the shapes tests/events/
and `dac hunt` read): JSON through json, CSV through csv, text logs through templates.

Each record gets the stub's ``value`` (or its look-alike) in the stub's field, the shared
group value, and a value of its own in the stub's distinct field."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from converters.authoring.stubs import Stub
from converters.writers.templates import artifact_environment

# Example time: a fixed Monday morning, one record a minute.
START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Example:
    """One record to write: its position, time and the stub field's value."""

    n: int
    when: datetime
    value: str
    group: str

    @property
    def iso(self) -> str:
        return self.when.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def epoch(self) -> int:
        return int(self.when.timestamp())


def examples(stub: Stub, value: str, count: int) -> list[Example]:
    return [Example(n, START + timedelta(minutes=n), value, stub.group_value) for n in range(count)]


def _gws(application: str, kind: str) -> Callable[[Example], dict[str, Any]]:
    def record(x: Example) -> dict[str, Any]:
        if application == "admin":
            parameters = [{"name": "USER_EMAIL", "value": f"new.user{x.n}@example.com"}]
            address = "203.0.113.24"
        else:
            parameters = [{"name": "login_type", "value": "google_password"}]
            address = f"198.51.100.{10 + x.n}"
        return {
            "kind": "admin#reports#activity",
            "id": {
                "time": x.when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "uniqueQualifier": str(-8950166969633632000 - x.n),
                "applicationName": application,
                "customerId": "C03az79cb",
            },
            "actor": {"callerType": "USER", "email": x.group},
            "ipAddress": address,
            "events": [{"type": kind, "name": x.value, "parameters": parameters}],
        }

    return record


def _ual(x: Example) -> dict[str, Any]:
    return {
        "CreationTime": x.iso.rstrip("Z"),
        "Id": f"9c963190-8908-5610-8f47-{x.n:012d}",
        "Operation": x.value,
        "OrganizationId": "4b2a0c1e-7f3d-4c8a-9e61-0d5b3a2f1c47",
        "RecordType": 8,
        "ResultStatus": "Success",
        "UserKey": "10032001A2B3C4D5@contoso.onmicrosoft.com",
        "UserType": 0,
        "Version": 1,
        "Workload": "AzureActiveDirectory",
        "ClientIP": "198.51.100.17",
        "ObjectId": f"new.user{x.n}@contoso.onmicrosoft.com",
        "UserId": x.group,
    }


def _entra(x: Example) -> dict[str, Any]:
    return {
        "id": f"Directory_5e9973fc-cb6d-f432-358f-{x.n:012d}",
        "category": "UserManagement",
        "result": "success",
        "activityDisplayName": x.value,
        "activityDateTime": x.iso,
        "loggedByService": "Core Directory",
        "operationType": "Add",
        "initiatedBy": {"user": {"userPrincipalName": x.group, "ipAddress": "198.51.100.17"}},
        "targetResources": [
            {"type": "User", "userPrincipalName": f"new.user{x.n}@contoso.onmicrosoft.com"}
        ],
    }


def _signup(x: Example) -> dict[str, Any]:
    return {
        "ts": x.iso,
        "event": "account.signup",
        "signup_id": f"su-{x.n:04d}",
        "account": f"user{x.n}@mail.example",
        "src_ip": x.group,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
        "recovery_email": "someone@example.org",
        "result": x.value,
        "captcha": "passed",
    }


def _gmail(x: Example) -> dict[str, Any]:
    usec = x.epoch * 1_000_000
    return {
        "time_usec": usec,
        "email": x.group,
        "event_name": "delivery",
        "event_type": "delivery_type",
        "record_type": "gmail",
        "unique_identifier": str(7650983839992817000 + x.n),
        "event_info": {"timestamp_usec": usec, "success": True, "mail_event_type": int(x.value)},
        "message_info": {
            "rfc2822_message_id": f"<example-{x.n}@mail.gmail.com>",
            "subject": "Example",
            "source": {"address": x.group, "service": "gmail-ui"},
            "destination": [{"address": f"customer{x.n}@example.net", "service": "smtp-outbound"}],
        },
    }


def _zeek(x: Example) -> dict[str, Any]:
    return {
        "ts": float(x.epoch),
        "uid": f"Cexample{x.n:06d}",
        "id.orig_h": x.group,
        "id.orig_p": 53000 + x.n,
        "id.resp_h": f"10.20.0.{2 + x.n}",
        "id.resp_p": 53,
        "proto": "udp",
        "query": x.value,
        "qtype_name": "A",
        "rcode_name": "NOERROR",
    }


_JSON: dict[str, Callable[[Example], dict[str, Any]]] = {
    "gws_admin": _gws("admin", "USER_SETTINGS"),
    "gws_login": _gws("login", "login"),
    "m365_audit": _ual,
    "entra_audit": _entra,
    "mail_signup": _signup,
    "gws_gmail": _gmail,
    "zeek_dns": _zeek,
}
# Sources whose exports hold one JSON record per line rather than a document.
_LINES = {"mail_signup", "gws_gmail", "zeek_dns"}
_TRACE_COLUMNS = (
    "Organization", "MessageId", "Received", "SenderAddress", "RecipientAddress", "Subject",
    "Status", "ToIP", "FromIP", "Size", "MessageTraceId",
)  # fmt: skip


def _message_trace(rows: list[Example]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(_TRACE_COLUMNS)
    for x in rows:
        # Get-MessageTrace | Export-Csv writes the time in the exporting host's format.
        w = x.when
        received = f"{w.month}/{w.day}/{w.year} {w.hour % 12 or 12}:{w:%M:%S %p}"
        writer.writerow((
            "contoso.onmicrosoft.com", f"<example-{x.n}@contoso.onmicrosoft.com>", received,
            x.group, f"customer{x.n}@example.net", "Example", x.value, "192.0.2.41", "",
            "51368", f"c797d4c1-866e-5c73-a041-{x.n:012d}",
        ))  # fmt: skip
    return buffer.getvalue()


def events_text(stub: Stub, rows: list[Example]) -> str:
    """The records as the source's export holds them."""
    if stub.source == "m365_message_trace":
        return _message_trace(rows)
    if stub.source in _JSON:
        records = [_JSON[stub.source](x) for x in rows]
        if stub.source in _LINES:
            return "".join(json.dumps(r) + "\n" for r in records)
        if stub.source.startswith("gws_"):  # a Reports API answer page
            return json.dumps({"kind": "admin#reports#activities", "items": records}, indent=2)
        return json.dumps(records, indent=2) + "\n"
    template = artifact_environment("authoring").get_template(f"events/{stub.source}.log.j2")
    return template.render(rows=rows)
