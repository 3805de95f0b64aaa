"""What `dac new` writes per data source: where the source's rules and test events live, and
a working example of a detection with events in the source's raw format.

The example is deliberately real (a rule that matches, a record that alerts, a look-alike
that does not), so that a new rule passes its tests from the first run and the engineer
changes a working thing rather than fills in a form."""

from __future__ import annotations

from dataclasses import dataclass

from converters.sources import DataSource, source_by_name


@dataclass(frozen=True)
class Stub:
    """One data source's authoring defaults."""

    source: str  # DataSource.name
    folder: str  # sigma_rules/<folder>/
    events: str  # tests/events/<events>/; also accepted as the source's short name
    suffix: str  # the events file's extension, as the source's exports name it
    field: str  # the example detection's field ...
    value: str  # ... the value an attack record holds ...
    benign: str  # ... and what a look-alike holds instead
    group: str  # a correlation's group-by field; every example record shares one value
    group_value: str
    distinct: str  # a field that differs per record (what a value_count correlation counts)


STUBS: tuple[Stub, ...] = (
    Stub("gws_admin", "google_workspace", "gws", ".json", "event.name", "CREATE_USER",
         "CHANGE_PASSWORD", "actor.email", "it-admin@example.com", "parameters.USER_EMAIL"),
    Stub("m365_audit", "m365", "m365", ".json", "Operation", "Add user.", "Update user.",
         "UserId", "admin@contoso.onmicrosoft.com", "ObjectId"),
    Stub("m365_message_trace", "message_trace", "message_trace", ".csv", "Status",
         "Delivered", "Failed", "SenderAddress", "orders@contoso.onmicrosoft.com",
         "RecipientAddress"),
    Stub("zeek_dns", "network", "zeek", ".log", "query", "signup.mail.example",
         "www.example.org", "id.orig_h", "10.20.0.15", "id.resp_h"),
    Stub("proxy", "network", "proxy", ".log", "cs-host", "signup.mail.example",
         "www.example.org", "c-ip", "10.20.0.31", "c-uri"),
    Stub("firewall", "network", "firewall", ".log", "dst_hostname", "signup.mail.example",
         "www.example.org", "src_ip", "10.20.0.31", "dst_ip"),
    Stub("entra_audit", "entra", "entra", ".json", "activityDisplayName", "Add user",
         "Update user", "initiatedBy.user.userPrincipalName", "admin@contoso.onmicrosoft.com",
         "targetResources.userPrincipalName"),
    Stub("mail_signup", "mail_service", "signup", ".ndjson", "result", "success", "failure",
         "src_ip", "203.0.113.9", "account"),
    Stub("gws_gmail", "google_workspace", "gws_gmail", ".json", "event_info.mail_event_type",
         "1", "2", "email", "orders@example.com", "message_info.destination.address"),
    Stub("gws_login", "google_workspace", "gws_login", ".json", "event.name", "login_success",
         "login_failure", "actor.email", "t.nguyen@example.com", "ipAddress"),
)  # fmt: skip


def stub_for(name: str) -> Stub | None:
    """The stub of a source, by its name (``gws_admin``) or its short name (``gws``: the
    folder of its test events)."""
    for stub in STUBS:
        if name in (stub.source, stub.events):
            return stub
    return None


def source_names() -> list[str]:
    """Every name `dac new` accepts for a source, each source's own name first."""
    return [stub.source for stub in STUBS] + [
        stub.events for stub in STUBS if stub.events != stub.source
    ]


def data_source(stub: Stub) -> DataSource:
    return source_by_name(stub.source)
