"""Google Workspace Gmail logs, read where the sender of every message is logged: the Gmail
log rows of the Workspace BigQuery export.

Canonical shape and Sigma field names: one BigQuery row (the Workspace activity table,
``record_type`` gmail) as JSON, flattened with dots: the mailbox ``email``, ``event_name``
(``delivery``), ``event_info.mail_event_type`` (1 sent, 2 received, 0 unknown, 10 forwarded,
11 auto-forwarded, ...), ``message_info.source.address`` (the envelope sender),
``message_info.destination.address`` (one value per recipient), ``message_info.subject``,
``message_info.rfc2822_message_id``, ``message_info.connection_info.client_ip``.
``dac hunt`` also reads Reports API Gmail activities (applicationName gmail) and gives them
the same names (converters.engine.gws: each event parameter under its own name, the actor as
``email``).

Why the BigQuery rows and not the Reports API: received mail in the Reports API leaves
``message_info.source`` and ``message_info.destination`` empty (Elastic's gmail_reports test
input, two delivery records of mail_event_type 2 and 0), so a rule on the sender of received
mail can never fire there; the BigQuery export fills them for every event (Elastic's gmail
test input, an inbound delivery with ``source.address``). The rules on received mail
(``gws_gmail_disposable_sender*``) therefore read this source only; on a Reports API export
they cannot fire (the coverage table lists them as restricted). The sending rules group by
the mailbox (``email``), which both shapes carry.

Where each target keeps the fields:

- Elastic: data stream ``google_workspace.gmail`` (the integration's BigQuery input), checked
  against its sample event and pipeline test expectations (below): ``email.from.address``
  from ``message_info.source.address``, ``email.to.address`` from the destinations,
  ``email.subject``, ``email.message_id`` (angle brackets removed), ``client.ip``, and the raw
  row under ``google_workspace.gmail.*`` (``event_info.mail_event_type`` a keyword string,
  ``email`` the mailbox).
- Splunk: the Splunk Add-on for Google Workspace stores the same rows (sourcetype
  ``gws:gmail``, its gmail_logs input reading the BigQuery export); the JSON extraction names
  them as above, lists with ``{}`` (``message_info.destination{}.address``).
  splunk/security_content's older data source for the previous Gmail export (sourcetype
  ``gsuite:gmail:bigquery``) shows ``source.address`` / ``destination{}.address`` one level
  up; the add-on's current props.conf was not available, so the Splunk names are inferred
  from the row's JSON and are marked unverified.
"""

from __future__ import annotations

from converters.datasources.model import (
    Capture,
    ContainmentCommand,
    DataSource,
    ElasticField,
    Field,
    Shape,
    TargetEvidence,
)

_SENDER = "message_info.source.address"
_MAILBOX = "email"
_INTEGRATIONS = "elastic/integrations packages/google_workspace"

GWS_GMAIL = DataSource(
    name="gws_gmail",
    title="Google Workspace Gmail logs (BigQuery export)",
    product="gcp",
    service="google_workspace.gmail",
    raw_format="Gmail log row of the Workspace BigQuery export (activity table, JSON)",
    splunk_macro="dac_gws_gmail",
    splunk_macro_definition='sourcetype="gws:gmail"',
    splunk_sourcetype="gws:gmail",
    elastic_indices=("logs-google_workspace.gmail-*",),
    elastic_dataset="google_workspace.gmail",
    elastic_integration="google_workspace",
    # The gmail data stream (BigQuery input) came with elastic/integrations#14399, after
    # 2.41.2 (the version #14377 asked for it in); a new data stream takes the next minor, so
    # 2.42.0 (inferred: the changelog entry itself was not available to read).
    elastic_integration_version="^2.42.0",
    fields=(
        Field(
            "event_info.mail_event_type",
            "event_info.mail_event_type",
            "google_workspace.gmail.event_info.mail_event_type",
            description="What happened to the message: 1 sent, 2 received, ...",
        ),
        Field(
            _MAILBOX,
            "email",
            "google_workspace.gmail.email",
            description="The mailbox whose log this is (the sender's, for sent mail).",
        ),
        Field(
            _SENDER,
            "message_info.source.address",
            "email.from.address",
            address_key="gws_gmail_sender",
            description="Sender's (envelope) address.",
        ),
        Field(
            "message_info.destination.address",
            "message_info.destination{}.address",
            "email.to.address",
            description="Recipients' addresses.",
        ),
        Field(
            "message_info.subject",
            "message_info.subject",
            "email.subject",
            description="Subject line.",
        ),
        Field(
            "message_info.rfc2822_message_id",
            "message_info.rfc2822_message_id",
            "email.message_id",
            description="Message-ID header (Elastic drops its angle brackets).",
        ),
        Field(
            "message_info.connection_info.client_ip",
            "message_info.connection_info.client_ip",
            "client.ip",
            description="Address of the client or server that handed the message over.",
        ),
    ),
    entities=(
        ("Mailbox", _MAILBOX),
        ("Sender", _SENDER),
        ("Recipients", "message_info.destination.address"),
        ("Subject", "message_info.subject"),
        ("Message-ID", "message_info.rfc2822_message_id"),
        ("Client IP", "message_info.connection_info.client_ip"),
    ),
    # GAM (the Google Workspace admin CLI) commands; shown, never run.
    containment=(
        ContainmentCommand(
            "Suspend the sending account",
            f"gam update user {{{_MAILBOX}}} suspended on",
            ("new-account-mail-burst",),
        ),
        ContainmentCommand(
            "Sign the sending account out everywhere and force a password change",
            f"gam user {{{_MAILBOX}}} signout; gam update user {{{_MAILBOX}}} changepassword on",
            ("new-account-mail-burst",),
        ),
        ContainmentCommand(
            "List the sender's messages in every mailbox to scope the recipients",
            f'gam all users print messages query "from:{{{_SENDER}}}"',
            ("disposable-email-domain",),
        ),
    ),
    shapes=(
        Shape(
            "bigquery-row",
            "Gmail log row of the BigQuery export, one JSON object per line (what the Splunk "
            "add-on stores and Elastic's gmail data stream reads)",
            (
                Capture(
                    f"{_INTEGRATIONS}/data_stream/gmail/_dev/test/pipeline/test-gmail.log",
                    "BigQuery rows with their schema: email, event_name, time_usec, "
                    "event_info{mail_event_type}, message_info{source{address, "
                    "from_header_address}, destination[{address}], subject, "
                    "rfc2822_message_id, connection_info{client_ip}}; an inbound delivery "
                    "with its sender",
                    "0df9636bbbeb66ddfe75aefc24647a5c8dbeaae7",
                ),
                Capture(
                    "https://support.google.com/a/answer/12384955",
                    "Google's schema of Gmail logs in BigQuery: mail_event_type INTEGER, "
                    "1 sent, 2 received",
                ),
            ),
        ),
        Shape(
            "reports-api",
            "Reports API Gmail activity (activities.list, applicationName gmail; events a "
            "list, event_info and message_info as messageValue parameters)",
            (
                Capture(
                    f"{_INTEGRATIONS}/data_stream/gmail_reports/_dev/test/pipeline/"
                    "test-gmail-reports.log",
                    "Reports API Gmail activities: mail_event_type an intValue string; "
                    "message_info.source and destination empty on received mail",
                    "5e8b1b10e7b9abcf8dcf36fb157029e41d1c66cb",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("google_workspace.gmail",)),
        ElasticField(
            "google_workspace.gmail.event_info.mail_event_type",
            "keyword",
            ("0", "1", "2", "10", "11"),
        ),
        ElasticField("google_workspace.gmail.email", "keyword"),
        ElasticField("email.from.address", "keyword"),
        ElasticField("email.to.address", "keyword"),
        ElasticField("email.subject", "keyword"),
        ElasticField("email.message_id", "keyword"),
        ElasticField("client.ip", "ip"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                f"{_INTEGRATIONS}/data_stream/gmail/sample_event.json",
                "google_workspace.gmail.email, google_workspace.gmail.event_info."
                'mail_event_type ("0"), email.from.address, email.to.address, email.subject, '
                "email.message_id, client.ip, data_stream.dataset google_workspace.gmail",
                "0b97ab02df57b57303b67e48840bb75dfe5c4738",
            ),
            Capture(
                f"{_INTEGRATIONS}/data_stream/gmail/_dev/test/pipeline/test-gmail.log-"
                "expected.json",
                "email.from.address from message_info.source.address; event.action delivery",
                "2385fda0961fa11f1590a6c2ae00dc2ae4e792ac",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "splunk/security_content data_sources/G_Suite_Gmail.yml",
                "the earlier Gmail BigQuery export in Splunk (gsuite:gmail:bigquery): "
                "source.address, destination{}.address, subject",
                "7263680bf3caf8ea72e006fafe965d928c4cbcc6",
            ),
        ),
        verified=False,
    ),
    delivery_lag_minutes=240,
    delivery_lag_reference=Capture(
        "https://support.google.com/a/answer/7061566",
        "Google's data retention and lag times: Gmail log events take minutes to hours to "
        "reach the reports and the BigQuery export",
    ),
)
