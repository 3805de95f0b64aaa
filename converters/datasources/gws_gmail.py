"""Google Workspace Gmail log events (Admin SDK Reports API, ``applicationName=gmail``).

Sigma field names are the Reports API activity as converters.engine.formats flattens any
application's activity: the activity's own keys with dots (``actor.email``), each event
parameter as ``parameters.<name>``, and Gmail's message-valued parameters nested with dots
(``parameters.event_info.mail_event_type``, ``parameters.message_info.source.address``); a
repeated message (``message_info.destination``) gives one multivalue field per key
(``parameters.message_info.destination.address``).

Verified, and where:

- Google, "Gmail Activity Events" (developers.google.com/workspace/admin/reports/v1/appendix/
  activity/gmail): one event, ``delivery``, of type ``delivery_type``, with the parameters
  ``event_info`` and ``message_info``; ``event_info.mail_event_type`` is an integer whose value
  1 is "Message sent" and 2 "Message received" (0 unknown, 3 and up: spam marks, quarantine,
  opened, replied, forwarded, link clicks, ...). Sending limits (support.google.com/a/answer/
  166852): 2,000 messages a day per user (500 for trial accounts), 2,000 recipients per
  message (500 external).
- The wire format: elastic/integrations ``packages/google_workspace/data_stream/gmail_reports``
  (its pipeline test input ``_dev/test/pipeline/test-gmail-reports.log`` is Reports API
  activities): ``event_info`` and ``message_info`` are ``messageValue.parameter[]`` lists,
  ``mail_event_type`` an ``intValue`` string ("1"), ``message_info.source`` a message with
  ``address``, ``message_info.destination`` a ``multiMessageValue`` of messages with
  ``address``, ``service``, ``selector``; also ``rfc2822_message_id`` (with its angle brackets),
  ``subject``, ``flattened_destinations`` ("service:selector:address,..."),
  ``connection_info.client_ip``.
- Elastic, data stream ``google_workspace.gmail_reports`` (the Reports API; the package's other
  Gmail stream, ``google_workspace.gmail``, reads the BigQuery export and keeps other names), its
  ingest pipeline ``elasticsearch/ingest_pipeline/default.yml`` and ``fields/fields.yml``: the
  parameters are flattened under ``google_workspace.gmail_reports.*`` (``event_info.
  mail_event_type`` a keyword), then copied to ECS and the copies removed unconditionally:
  event name -> ``event.action`` (lower case, ``_`` -> ``-``: ``delivery``), ``id.
  applicationName`` -> ``event.provider`` (``gmail``), ``message_info.source.address`` ->
  ``email.from.address`` (appended: an array), every ``destination[].address`` and the
  addresses of ``flattened_destinations`` -> ``email.to.address``, ``subject`` ->
  ``email.subject``, ``rfc2822_message_id`` -> ``email.message_id`` (angle brackets removed),
  ``connection_info.client_ip`` -> ``client.ip``, ``actor.email`` -> ``user.email`` (replaced by
  the delegate's address when a delegate acted).
- Splunk, Splunk Add-on for Google Workspace (its ``gmail_logs`` modular input, read in a public
  copy of the add-on's code): Gmail logs come from the BigQuery export (``SELECT *`` of the
  dataset's ``daily_*`` tables), one JSON event per row, sourcetype ``gws:gmail``; the add-on
  reads no Gmail activities from the Reports API. The BigQuery rows carry the same
  ``event_info`` and ``message_info`` records at the top level, so the JSON extraction names
  them ``event_info.mail_event_type``, ``message_info.source.address``,
  ``message_info.destination{}.address`` (splunk/security_content's older ``G Suite Gmail``
  data source, sourcetype ``gsuite:gmail:bigquery``, shows these message_info names one level
  up, with the add-on of that time).

Inferred, not seen in a document:

- A sent message is logged once, in the sender's mailbox, with its recipients under
  ``message_info.destination``; a received message once per receiving mailbox. The public
  sample's received events leave ``source`` and ``destination`` empty (their recipient is only
  in ``flattened_destinations``); such events cannot match the rules that read them.
- ``event_info.mail_event_type`` in the BigQuery export (Google's 2023 announcement lists it
  among the columns added there) is the same number as in the Reports API.
- The Splunk field names above are those of the JSON extraction of the BigQuery row; the
  add-on's props.conf (aliases, CIM) was not available. The BigQuery row has no mailbox owner
  (no ``actor.email``), so no field here needs one.
- The Elastic integration version that added ``gmail_reports`` is not in the changelog read
  (its newest entry, 2.37.0, predates it); ``^2.0.0`` is the package's major version.
"""

from __future__ import annotations

from converters.datasources.model import ContainmentCommand, DataSource, Field

_SENDER = "parameters.message_info.source.address"

GWS_GMAIL = DataSource(
    name="gws_gmail",
    title="Google Workspace Gmail log events (Reports API, gmail application)",
    product="gcp",
    service="google_workspace.gmail",
    raw_format="Admin SDK Reports API activity (activities.list, applicationName=gmail)",
    splunk_macro="dac_gws_gmail",
    splunk_macro_definition='sourcetype="gws:gmail"',
    splunk_sourcetype="gws:gmail",
    elastic_indices=("logs-google_workspace.gmail_reports-*",),
    elastic_dataset="google_workspace.gmail_reports",
    elastic_integration="google_workspace",
    elastic_integration_version="^2.0.0",
    fields=(
        Field(
            "parameters.event_info.mail_event_type",
            "event_info.mail_event_type",
            "google_workspace.gmail_reports.event_info.mail_event_type",
            description="What happened to the message: 1 sent, 2 received, ...",
        ),
        Field(
            _SENDER,
            "message_info.source.address",
            "email.from.address",
            address_key="gws_gmail_sender",
            description="Sender's (envelope) address.",
        ),
        Field(
            "parameters.message_info.destination.address",
            "message_info.destination{}.address",
            "email.to.address",
            description="Recipients' addresses (the receiving mailbox, for received mail).",
        ),
        Field(
            "parameters.message_info.subject",
            "message_info.subject",
            "email.subject",
            description="Subject line.",
        ),
        Field(
            "parameters.message_info.rfc2822_message_id",
            "message_info.rfc2822_message_id",
            "email.message_id",
            description="Message-ID header (Elastic drops its angle brackets).",
        ),
        Field(
            "parameters.message_info.connection_info.client_ip",
            "message_info.connection_info.client_ip",
            "client.ip",
            description="Address of the mail client that started the message.",
        ),
    ),
    entities=(
        ("Sender", _SENDER),
        ("Recipients", "parameters.message_info.destination.address"),
        ("Subject", "parameters.message_info.subject"),
        ("Message-ID", "parameters.message_info.rfc2822_message_id"),
        ("Client IP", "parameters.message_info.connection_info.client_ip"),
    ),
    # GAM (the Google Workspace admin CLI) commands; shown, never run.
    containment=(
        ContainmentCommand(
            "Suspend the sending account",
            f"gam update user {{{_SENDER}}} suspended on",
            ("new-account-mail-burst",),
        ),
        ContainmentCommand(
            "Sign the sending account out everywhere and force a password change",
            f"gam user {{{_SENDER}}} signout; gam update user {{{_SENDER}}} changepassword on",
            ("new-account-mail-burst",),
        ),
        ContainmentCommand(
            "List the sender's messages in every mailbox to scope the recipients",
            f'gam all users print messages query "from:{{{_SENDER}}}"',
            ("disposable-email-domain",),
        ),
    ),
)
