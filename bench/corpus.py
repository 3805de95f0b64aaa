"""A synthetic corpus for the hunt benchmark: Google Workspace activities and UAL records as
NDJSON, in chunks of one day each, with the same attacks planted in every chunk.

Records are written from JSON templates with ``%`` formatting (a few microseconds each), so
that generating a million events takes seconds. Each chunk holds, besides the noise:
- a Workspace admin creating five accounts in 40 minutes, and mail routed to a disposable
  domain (gws_bulk_user_creation, gws_user_created x5, gws_mail_routing_disposable_domain);
- an M365 actor adding five users in 40 minutes, a mailbox forwarded and an inbox rule
  forwarding to disposable domains (m365_bulk_user_creation, m365_user_added x5,
  m365_forwarding_disposable_domain x2);
- look-alikes that must stay quiet: forwarding and routing to a partner, onboarding spread
  over the day (each creation an informational alert, never a burst).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DAY = timedelta(days=1)
START = datetime(2026, 11, 2, tzinfo=UTC)
ATTACKER_GWS = "it-admin@example.com"
ATTACKER_M365 = "admin@contoso.onmicrosoft.com"

_PARAMS = "@@PARAMS@@"


def _gws(app: str, name: str, kind: str, parameters: list[dict[str, Any]]) -> str:
    record = {
        "kind": "admin#reports#activity",
        "id": {
            "time": "@@time@@",
            "uniqueQualifier": "@@id@@",
            "applicationName": app,
            "customerId": "C03az79cb",
        },
        # Google's etag: two base64 hashes (as in the Admin SDK records of demisto/content's
        # GSuiteAdmin test data); never the activity's id, whose digit run json must read.
        "etag": '"@@etag@@"',
        "actor": {"callerType": "USER", "email": "@@actor@@", "profileId": "105250506097979753968"},
        "ipAddress": "@@ip@@",
        "events": [{"type": kind, "name": name, "parameters": parameters}],
    }
    return _template(record)


def _ual(operation: str, workload: str, record_type: int, extra: dict[str, Any]) -> str:
    record = {
        "CreationTime": "@@time@@",
        "Id": "@@id@@",
        "Operation": operation,
        "OrganizationId": "4b2a0c1e-7f3d-4c8a-9e61-0d5b3a2f1c47",
        "RecordType": record_type,
        "ResultStatus": "Succeeded",
        "UserKey": "10032001A2B3C4D5",
        "UserType": 0,
        "Version": 1,
        "Workload": workload,
        "ClientIP": "@@ip@@",
        "ObjectId": "@@object@@",
        "UserId": "@@actor@@",
        # Common to most real records; they make the size realistic (about 1 kB).
        "AppId": "00000002-0000-0ff1-ce00-000000000000",
        "ClientAppId": "",
        "ExternalAccess": False,
        "OrganizationName": "contoso.onmicrosoft.com",
        "OriginatingServer": "AM6PR01MB5432 (15.20.8207.017)",
        "SessionId": "023c7897-595b-57ff-96c0-269c5e332546",
        "AppAccessContext": {
            "AADSessionId": "023c7897-595b-57ff-96c0-269c5e332546",
            "IssuedAtTime": "@@time@@",
            "UniqueTokenId": "Zm9vYmFyYmF6cXV4MTIzNDU2",
        },
        **extra,
    }
    return _template(record)


def _template(record: dict[str, Any]) -> str:
    text = json.dumps(record).replace("%", "%%")
    for name in ("time", "id", "actor", "ip", "object", "value", "etag", "msgid"):
        text = text.replace(f"@@{name}@@", f"%({name})s")
    return text


def _etag(ident: str) -> str:
    digest = hashlib.blake2b(ident.encode(), digest_size=42).digest()
    text = base64.b64encode(digest, b"-_").decode()
    return f"{text[:27]}/{text[28:55]}"


def _param(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _ual_params(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"Parameters": [{"Name": n, "Value": v} for n, v in pairs]}


T = {
    "login": _gws(
        "login",
        "login_success",
        "login",
        [
            _param("login_type", "google_password"),
            {"name": "login_challenge_method", "multiValue": ["password", "totp"]},
            {"name": "is_suspicious", "boolValue": False},
        ],
    ),
    "gmail": _gws(
        "gmail",
        "delivery",
        "email_delivery",
        [
            {
                "name": "event_info",
                "messageValue": {"parameter": [{"name": "mail_event_type", "intValue": "1"}]},
            },
            {
                "name": "message_info",
                "messageValue": {
                    "parameter": [
                        # Gmail's own Message-IDs: CA + base64, @mail.gmail.com.
                        _param("rfc2822_message_id", "<CA@@msgid@@@mail.gmail.com>"),
                        _param("subject", "Weekly report"),
                        {"name": "num_message_attachments", "intValue": "1"},
                    ]
                },
            },
        ],
    ),
    "admin": _gws("admin", "CHANGE_PASSWORD", "USER_SETTINGS", [_param("USER_EMAIL", "@@value@@")]),
    "create": _gws("admin", "CREATE_USER", "USER_SETTINGS", [_param("USER_EMAIL", "@@value@@")]),
    "routing": _gws(
        "admin",
        "MAIL_ROUTING_DESTINATION_ADDED",
        "EMAIL_SETTINGS",
        [_param("NEW_VALUE", "@@value@@")],
    ),
    "mail": _ual(
        "MailItemsAccessed",
        "Exchange",
        50,
        {
            "MailboxOwnerUPN": "@@actor@@",
            "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
            "Folders": [{"Path": "\\\\Inbox", "FolderItems": [{"InternetMessageId": "<@@id@@>"}]}],
        },
    ),
    "file": _ual(
        "FileAccessed",
        "SharePoint",
        6,
        {"SiteUrl": "https://contoso.sharepoint.com/sites/finance", "SourceFileName": "q3.xlsx"},
    ),
    "logon": _ual(
        "UserLoggedIn",
        "AzureActiveDirectory",
        15,
        {"ExtendedProperties": [{"Name": "UserAgent", "Value": "Mozilla/5.0"}]},
    ),
    "adduser": _ual("Add user.", "AzureActiveDirectory", 8, {}),
    "setmailbox": _ual(
        "Set-Mailbox",
        "Exchange",
        1,
        _ual_params(("Identity", "@@object@@"), ("ForwardingSmtpAddress", "@@value@@")),
    ),
    "inboxrule": _ual(
        "New-InboxRule",
        "Exchange",
        1,
        _ual_params(("Name", "fwd"), ("ForwardTo", "@@value@@")),
    ),
}
# Share of the noise per template; the rest of the chunk.
NOISE = (("login", 25), ("gmail", 20), ("admin", 5), ("mail", 25), ("file", 15), ("logon", 10))


@dataclass
class Chunk:
    files: list[Path]
    events: int
    planted: dict[str, list[list[str]]] = field(default_factory=dict)  # rule -> evidence ids


class _Writer:
    def __init__(self, day: datetime, rng: random.Random) -> None:
        self.day = day
        self.rng = rng
        self.counter = 0
        self.lines: list[tuple[float, str, str]] = []  # (seconds, file key, line)

    def add(self, template: str, seconds: float, actor: str, value: str = "") -> str:
        self.counter += 1
        gws = template.startswith('{"kind"')
        moment = self.day + timedelta(seconds=seconds)
        if gws:
            ident = str(-(10**18) - self.counter)
            when = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        else:
            ident = f"{self.counter:08x}-{self.day.day:04x}-4000-8000-{self.counter:012x}"
            when = moment.strftime("%Y-%m-%dT%H:%M:%S")
        values = {
            "time": when,
            "id": ident,
            "actor": actor,
            "ip": f"198.51.100.{self.counter % 250 + 1}",
            "object": f"user{self.counter % 5000}@contoso.onmicrosoft.com",
            "value": value,
            "etag": _etag(ident) if gws else "",
            "msgid": _etag(ident).replace("/", "") if gws else "",
        }
        self.lines.append((seconds, "gws" if gws else "ual", template % values))
        return ident

    def write(self, folder: Path, suffix: str = "") -> list[Path]:
        """The lines in time order, one NDJSON file per source (gws, ual)."""
        self.lines.sort(key=lambda item: item[0])
        files = []
        for key in ("gws", "ual"):
            path = folder / f"{key}{suffix}.ndjson"
            with path.open("w", encoding="utf-8") as out:
                out.writelines(line + "\n" for _t, k, line in self.lines if k == key)
            files.append(path)
        return files


def write_chunk(folder: Path, index: int, events: int, seed: int = 1585) -> Chunk:
    rng = random.Random(seed + index)
    writer = _Writer(START + index * DAY, rng)
    planted: dict[str, list[list[str]]] = {}
    hour = 3600.0

    def plant(rule: str, ids: list[str]) -> None:
        planted.setdefault(rule, []).append(ids)

    burst = [10 * hour + m * 60 for m in (5, 14, 23, 36, 44)]
    ids = [
        writer.add(T["create"], t, ATTACKER_GWS, f"new{n}@example.com") for n, t in enumerate(burst)
    ]
    plant("gws_bulk_user_creation", ids)
    for ident in ids:
        plant("gws_user_created", [ident])
    ids = [writer.add(T["adduser"], t + 7, ATTACKER_M365) for t in burst]
    plant("m365_bulk_user_creation", ids)
    for ident in ids:
        plant("m365_user_added", [ident])
    plant(
        "gws_mail_routing_disposable_domain",
        [writer.add(T["routing"], 12 * hour, ATTACKER_GWS, "x@mx.guerrillamail.com")],
    )
    plant(
        "m365_forwarding_disposable_domain",
        [writer.add(T["setmailbox"], 13 * hour, ATTACKER_M365, "smtp:drop@mailinator.com")],
    )
    plant(
        "m365_forwarding_disposable_domain",
        [writer.add(T["inboxrule"], 16 * hour, "j.doe@contoso.onmicrosoft.com", "a@yopmail.com")],
    )
    # Look-alikes: partner destinations, and onboarding every two hours (one alert each).
    writer.add(T["routing"], 12.5 * hour, ATTACKER_GWS, "relay@partner.example.org")
    for n in range(40):
        writer.add(T["setmailbox"], n * 2000.0, ATTACKER_M365, "smtp:orders@partner.example.org")
        writer.add(
            T["inboxrule"],
            n * 2000.0 + 9,
            "j.doe@contoso.onmicrosoft.com",
            "me@partner.example.org",
        )
    for n in range(12):
        ident = writer.add(T["create"], n * 2 * hour + 30, "hr@example.com", f"hire{n}@example.com")
        plant("gws_user_created", [ident])
        ident = writer.add(T["adduser"], n * 2 * hour + 60, "provisioning@contoso.onmicrosoft.com")
        plant("m365_user_added", [ident])
    names = [name for name, share in NOISE for _ in range(share)]
    noise = events - len(writer.lines)
    for n in range(noise):
        name = names[n % len(names)]
        writer.add(
            T[name], n * 86000.0 / noise, f"user{rng.randrange(5000)}@example.com", "u@example.com"
        )
    files = writer.write(folder, f"_{index}")
    return Chunk(files, len(writer.lines), planted)


PROVISIONING = "provisioning@example.com"


def write_heavy(
    folder: Path,
    events: int,
    group: int = 10_000,
    days: int = 14,
    actors: int = 1,
    quiet_days: int = 0,
) -> Chunk:
    """``group`` account creations evenly over ``days`` days, among noise that goes on
    ``quiet_days`` longer. With one actor (a provisioning account, not allowlisted): one group
    of ``group`` events of the burst correlation's base rule, a burst in every sliding hour.
    With many actors taking turns: no burst. Planted: an absence alert (never signed in) for
    each account created more than the rule's week before the last event; the bursts are
    counted, not planted."""
    rng = random.Random(1585)
    writer = _Writer(START, rng)
    span = days * 86_400.0
    total = span + quiet_days * 86_400.0
    created: list[tuple[float, str]] = []
    for n in range(group):
        actor = PROVISIONING if actors == 1 else f"hr{n % actors}@example.com"
        moment = n * span / group
        created.append((moment, writer.add(T["create"], moment, actor, f"new{n}@example.com")))
    names = [name for name, share in NOISE for _ in range(share)]
    noise = max(0, events - len(writer.lines))
    for n in range(noise):
        actor = f"user{rng.randrange(5000)}@example.com"
        writer.add(T[names[n % len(names)]], n * total / noise, actor, "u@example.com")
    files = writer.write(folder)
    last = writer.lines[-1][0] if writer.lines else 0.0
    # A second's margin: the rule compares times to the millisecond.
    unanswered = [[ident] for moment, ident in created if moment + 7 * 86_400 + 1 < last]
    return Chunk(files, len(writer.lines), {"gws_user_never_signed_in": unanswered})
