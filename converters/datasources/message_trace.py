"""Microsoft 365 (Exchange Online) message trace: one row per message and recipient.

Raw format and Sigma field names: the columns ``Get-MessageTrace | Export-Csv
-NoTypeInformation`` writes, which are also the property names of the Reporting Web Service
``MessageTrace`` report the SIEM collectors read (``Received``, ``SenderAddress``,
``RecipientAddress``, ``Subject``, ``Status``, ``FromIP``, ``ToIP``, ``Size``, ``MessageId``,
``MessageTraceId``; the export also has ``Organization``, ``StartDate``, ``EndDate``, ``Index``
and PowerShell's ``PSComputerName``/``RunspaceId``/``PSShowComputerName``, which no rule reads).

What was checked, and where:

- Elastic, ``microsoft_exchange_online_message_trace`` integration (elastic/integrations,
  ``packages/microsoft_exchange_online_message_trace``, data stream ``log``, ingest pipeline
  ``data_stream/log/elasticsearch/ingest_pipeline/default.yml``, fields ``fields/fields.yml``,
  ``sample_event.json``; versions 1.x read the Reporting Web Service): the JSON record is
  parsed into ``microsoft.online_message_trace.*`` with the raw names, then copied to ECS:
  SenderAddress -> ``email.from.address`` (appended: an array of one) and
  ``source.user.email``; RecipientAddress -> ``email.to.address`` (array of one) and
  ``destination.user.email``; Subject -> ``email.subject``; FromIP -> ``source.ip``;
  ToIP -> ``destination.ip``; MessageId -> ``email.message_id``; MessageTraceId ->
  ``email.local_id``; Received -> ``email.delivery_timestamp`` (and ``@timestamp``); Size ->
  ``email.attachments.file.size`` (sic). Status stays raw only: ``event.outcome`` is reduced
  to success (Delivered) / failure (Failed; later versions also Quarantined, FilteredAsSpam)
  / unknown, which cannot tell Pending from Expanded, so rules read
  ``microsoft.online_message_trace.Status``. Size is read from the raw field as well.
  A later pipeline (seen in a third-party transpilation of it, not in the integration
  itself here) renames the Graph ``messageTraces`` camelCase names to the same PascalCase
  ``microsoft.online_message_trace.*`` names, so the mapping holds for both inputs.
  Multi-valued join keys (the one-element ``email.from.address`` arrays) are accepted by EQL
  ``sequence by`` since Elasticsearch 8.6 (elastic/elasticsearch#89965).
- Splunk, Splunk Add-on for Microsoft Office 365, message trace input, sourcetype
  ``ms:o365:reporting:messagetrace``: events are the Reporting Web Service JSON records,
  extracted with their raw names (``SenderAddress``, ``RecipientAddress``, ``Subject``,
  ``Status``, ``Size``, ``MessageId`` seen in searches over the public BOTS v3 data set).
  The add-on's own props.conf (CIM aliases) was not available to check; the rules use the
  raw names only. ``FromIP``, ``ToIP``, ``MessageTraceId`` and ``Received`` are taken to be
  extracted the same way (they are keys of the same JSON record), not seen in a search.
- Microsoft: ``Status`` values (Get-MessageTrace reference): None, GettingStatus, Failed,
  Pending, Delivered, Expanded, Quarantined, FilteredAsSpam. ``ToIP`` is the destination MX
  address for outgoing mail and blank for incoming mail; ``FromIP`` is the sending server
  for incoming mail. No column says whether a message is inbound or outbound.
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

M365_MESSAGE_TRACE = DataSource(
    name="m365_message_trace",
    title="Microsoft 365 message trace (Exchange Online)",
    product="m365",
    service="message_trace",
    raw_format="Exchange Online message trace row (Get-MessageTrace / Reporting Web Service)",
    splunk_macro="dac_m365_message_trace",
    splunk_macro_definition='sourcetype="ms:o365:reporting:messagetrace"',
    splunk_sourcetype="ms:o365:reporting:messagetrace",
    elastic_indices=("logs-microsoft_exchange_online_message_trace.log-*",),
    elastic_dataset="microsoft_exchange_online_message_trace.log",
    elastic_integration="microsoft_exchange_online_message_trace",
    elastic_integration_version="^1.0.0",
    fields=(
        Field(
            "Received",
            "Received",
            "email.delivery_timestamp",
            description="When Exchange Online received the message (UTC).",
        ),
        Field(
            "SenderAddress",
            "SenderAddress",
            "email.from.address",
            address_key="mt_sender_address",
            description="Sender's SMTP address (the envelope sender, spoofable on inbound mail).",
        ),
        Field(
            "RecipientAddress",
            "RecipientAddress",
            "email.to.address",
            address_key="mt_recipient_address",
            description="The recipient of this row (one row per recipient).",
        ),
        Field("Subject", "Subject", "email.subject", description="Subject line."),
        Field(
            "Status",
            "Status",
            "microsoft.online_message_trace.Status",
            description="Delivery status (Delivered, Pending, Expanded, Failed, ...).",
        ),
        Field(
            "FromIP",
            "FromIP",
            "source.ip",
            description="Address that handed the message to Exchange Online.",
        ),
        Field(
            "ToIP",
            "ToIP",
            "destination.ip",
            description="Destination MX address of outgoing mail (blank for incoming mail).",
        ),
        Field("Size", "Size", "microsoft.online_message_trace.Size", description="Bytes."),
        Field("MessageId", "MessageId", "email.message_id", description="Message-ID header."),
        Field(
            "MessageTraceId",
            "MessageTraceId",
            "email.local_id",
            description="Exchange Online's id of the message (Get-MessageTraceDetail).",
        ),
    ),
    entities=(
        ("Sender", "SenderAddress"),
        ("Recipient", "RecipientAddress"),
        ("Subject", "Subject"),
        ("Sending IP", "FromIP"),
    ),
    # Exchange Online PowerShell (and Microsoft Graph for the sessions).
    containment=(
        ContainmentCommand(
            "Disable the sending account (Exchange Online)",
            "Set-Mailbox -Identity '{SenderAddress}' -AccountDisabled $true",
            ("new-account-mail-burst",),
        ),
        ContainmentCommand(
            "Revoke the sending account's sessions",
            "Revoke-MgUserSignInSession -UserId '{SenderAddress}'",
            ("new-account-mail-burst",),
        ),
        ContainmentCommand(
            "Block the sender in the Tenant Allow/Block List",
            "New-TenantAllowBlockListItems -ListType Sender -Block -Entries '{SenderAddress}' "
            "-NoExpiration",
            ("disposable-email-domain",),
        ),
        ContainmentCommand(
            "List every message of the sender (last 10 days) to scope the recipients",
            "Get-MessageTraceV2 -SenderAddress '{SenderAddress}' "
            "-StartDate (Get-Date).AddDays(-10) -EndDate (Get-Date)",
            ("new-account-mail-burst", "disposable-email-domain"),
        ),
    ),
    shapes=(
        Shape(
            "export-csv",
            "Get-MessageTrace | Export-Csv (en-US dates; PowerShell's #TYPE line optional)",
            (
                Capture(
                    "https://learn.microsoft.com/powershell/module/exchange/get-messagetrace",
                    "Received, SenderAddress, RecipientAddress, Subject, Status, ToIP, FromIP, "
                    "Size, MessageId, MessageTraceId",
                ),
            ),
        ),
        Shape(
            "rws-json",
            'Reporting Web Service JSON: {"value": [...]} (JSON light) or '
            '{"d": {"results": [...]}} (verbose, /Date(ms)/), or one record per line as '
            "Elastic's input stores it; Received without a zone is UTC",
            (
                Capture(
                    "elastic/integrations packages/microsoft_exchange_online_message_trace/"
                    "data_stream/log/_dev/test/"
                    "pipeline/test-log.log",
                    "records one per line: Received 2022-09-05T18:10:13.4907658 (no zone), "
                    "SenderAddress, RecipientAddress, Status, FromIP, ToIP (or null), Size",
                    "0afb68a04cfdf5bf3360322d37b7a89ffc81bdd2",
                ),
                Capture(
                    "elastic/integrations packages/microsoft_exchange_online_message_trace/"
                    "data_stream/log/agent/stream/"
                    "httpjson.yml.hbs",
                    'the input splits body.value: the service answers {"value": [...]}',
                    "063b313c899e82ce7af5e485449036b8a5ac6833",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("microsoft_exchange_online_message_trace.log",)),
        ElasticField("email.delivery_timestamp", "date"),
        ElasticField("email.from.address", "keyword"),
        ElasticField("email.to.address", "keyword"),
        ElasticField("email.subject", "keyword"),
        ElasticField(
            "microsoft.online_message_trace.Status",
            "keyword",
            (
                "Delivered",
                "Expanded",
                "Failed",
                "FilteredAsSpam",
                "GettingStatus",
                "Pending",
                "Quarantined",
                "None",
            ),
        ),
        ElasticField("source.ip", "ip"),
        ElasticField("destination.ip", "ip"),
        ElasticField("microsoft.online_message_trace.Size", "long"),
        ElasticField("email.message_id", "keyword"),
        ElasticField("email.local_id", "keyword"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/microsoft_exchange_online_message_trace/"
                "data_stream/log/elasticsearch/"
                "ingest_pipeline/default.yml",
                "raw record under microsoft.online_message_trace.*; email.from.address and "
                "email.to.address (arrays), source.ip FromIP, destination.ip ToIP, "
                "email.local_id MessageTraceId, @timestamp from Received as UTC",
                "136ebec10fe34f4161b2ea919f5b4f8de2e487fe",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "public searches over the BOTS v3 data set (sourcetype "
                "ms:o365:reporting:messagetrace)",
                "SenderAddress, RecipientAddress, Subject, Status, Size, MessageId",
            ),
        ),
        # FromIP, ToIP, MessageTraceId and Received were not seen in a Splunk search.
        verified=False,
    ),
    delivery_lag_minutes=30,
    delivery_lag_reference=Capture(
        "https://learn.microsoft.com/exchange/monitoring/trace-an-email-message/message-trace-faq",
        "Microsoft: a message should appear in message trace data within 5 to 10 minutes; the "
        "collector polls on its own interval",
    ),
)
