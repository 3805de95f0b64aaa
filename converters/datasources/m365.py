"""Microsoft 365 Unified Audit Log."""

from __future__ import annotations

from types import MappingProxyType

from converters.datasources.model import (
    Capture,
    ContainmentCommand,
    DataSource,
    ElasticField,
    Field,
    Shape,
    TargetEvidence,
    json_list_value,
)

# The cmdlet's parameters, each read from its own JSON object: the add-on's Parameters{}.Name
# and Parameters{}.Value lists do not line up when a value is null.
UAL_PARAMETERS = "dac_ual_parameters"
UAL_PRELUDE = f"| spath output={UAL_PARAMETERS} path=Parameters{{}}"


def _ual_param(name: str, address_key: str | None = None) -> Field:
    return Field(
        sigma=f"Parameters.{name}",
        splunk="Parameters{}.Value",
        elastic=f"o365.audit.Parameters.{name}",
        splunk_exact=json_list_value(UAL_PARAMETERS, "Name", ("Value",), name),
        splunk_presence=f'"Parameters{{}}.Name"="{name}"',
        address_key=address_key,
        description=f"Value of the cmdlet parameter {name}.",
    )


# The client's address as converters.engine.shapes.client_address reads it: the first of
# ClientIPAddress, ClientIP, ActorIpAddress that holds one (Azure AD records usually hold
# none), without the port Exchange adds (1.2.3.4:52816, [2001:db8::1]:443) or the IPv4-mapped
# prefix. The add-on's own src_ip was not used: whether it strips the port is not documented.
_FIRST_ADDRESS = (
    "coalesce("
    + ", ".join(
        f"nullif('{key}', \"\")" for key in ("ClientIPAddress", "ClientIP", "ActorIpAddress")
    )
    + ")"
)
CLIENT_ADDRESS_SPL = (
    "replace(replace(replace("
    + _FIRST_ADDRESS
    + r', "^\[([^\]]+)\](:\d+)?$", "\1"), "^(\d{1,3}(\.\d{1,3}){3}):\d+$", "\1"), '
    + r'"^::ffff:(\d{1,3}(\.\d{1,3}){3})$", "\1")'
)

M365_AUDIT = DataSource(
    name="m365_audit",
    title="Microsoft 365 Unified Audit Log (Management Activity API)",
    product="m365",
    service="audit",
    raw_format="Unified Audit Log record (Management Activity API / AuditData JSON)",
    splunk_macro="dac_o365_management_activity",
    splunk_macro_definition='sourcetype="o365:management:activity"',
    splunk_sourcetype="o365:management:activity",
    elastic_indices=("logs-o365.audit-*",),
    elastic_dataset="o365.audit",
    elastic_integration="o365",
    # The audit data stream is in every o365 release; 3.x is current (packages/o365/
    # manifest.yml 3.8.0, commit 0061d8d4dfa1caab418bbc64eeae0e23785e0977).
    elastic_integration_version="^2.0.0 || ^3.0.0",
    splunk_prelude=UAL_PRELUDE,
    fields=(
        Field("Operation", "Operation", "event.action", description="Audited operation."),
        Field("Workload", "Workload", "event.provider"),
        Field("UserId", "UserId", "user.id", description="Acting user."),
        Field("ObjectId", "ObjectId", "o365.audit.ObjectId", description="Target object."),
        Field(
            "ClientIP",
            "ClientIP",
            "source.ip",
            splunk_exact=CLIENT_ADDRESS_SPL,
            splunk_presence="(ClientIP=* OR ActorIpAddress=* OR ClientIPAddress=*)",
            description="Actor's IP address, without a port (none on most Azure AD records).",
        ),
        Field("ResultStatus", "ResultStatus", "o365.audit.ResultStatus"),
        _ual_param("Identity"),
        _ual_param("ForwardingSmtpAddress", address_key="ual_forwarding_smtp_address"),
        _ual_param("ForwardingAddress", address_key="ual_forwarding_address"),
        _ual_param("ForwardTo", address_key="ual_forward_to"),
        _ual_param("RedirectTo", address_key="ual_redirect_to"),
        _ual_param("ForwardAsAttachmentTo", address_key="ual_forward_as_attachment_to"),
    ),
    # The o365 integration renames these Azure AD operations when they are spelt exactly so
    # (a case-sensitive comparison in its pipeline); Microsoft's own sample spells "Add User.",
    # which it keeps as is, so a query tests both.
    elastic_value_maps=MappingProxyType(
        {
            "Operation": MappingProxyType(
                {
                    "Add user.": ("added-user-account", "Add user."),
                    "Update user.": ("modified-user-account", "Update user."),
                    "Delete user.": ("deleted-user-account", "Delete user."),
                }
            )
        }
    ),
    entities=(
        ("Acting user", "UserId"),
        ("Source IP", "ClientIP"),
        ("Target object", "ObjectId"),
        ("Mailbox", "Parameters.Identity"),
    ),
    # Microsoft Graph and Exchange Online PowerShell.
    containment=(
        ContainmentCommand(
            "Block sign-in of the added account",
            "Update-MgUser -UserId '{ObjectId}' -AccountEnabled:$false",
            ("bulk-account-creation", "untraceable-account"),
        ),
        ContainmentCommand(
            "Revoke the acting user's sessions",
            "Revoke-MgUserSignInSession -UserId '{UserId}'",
            ("bulk-account-creation", "disposable-email-domain"),
        ),
        ContainmentCommand(
            "Remove the mailbox forwarding",
            "Set-Mailbox -Identity '{Parameters.Identity}' -ForwardingSmtpAddress $null "
            "-ForwardingAddress $null -DeliverToMailboxAndForward $false",
            ("disposable-email-domain",),
        ),
        ContainmentCommand(
            "Disable the forwarding inbox rule",
            "Disable-InboxRule -Identity '{ObjectId}'",
            ("disposable-email-domain",),
        ),
    ),
    shapes=(
        Shape(
            "management-api",
            "Management Activity API content (a JSON array of records, or one per line)",
            (
                Capture(
                    "elastic/beats x-pack/filebeat/module/o365/audit/test/08-azuread-users.log",
                    "RecordType 8 records, Add user. among them: ClientIP and ActorIpAddress "
                    "empty in 7 of 11 (the Add user. record included); ObjectId the new account",
                    "0b086b325505f5fe888626f66340ca8dfe5fd67f",
                ),
                Capture(
                    "MicrosoftDocs/office-365-management-api office-365-management-api/"
                    "office-365-management-activity-api-reference.md",
                    "Microsoft's sample: Operation Add User. (capital U), no ClientIP key; "
                    "ClientIP null for Entra ID events (schema page)",
                    "8a539d33bd3f05032e3c2b49c7951aa94bd80555",
                ),
                Capture(
                    "splunk/security_content data_sources/o365_set_mailbox.yml",
                    "Set-Mailbox with ClientIP 18.192.200.190:52816 (a port) and Parameters "
                    "Name/Value pairs",
                    "b13b314aed0e1778335a55620474e7d27289a20a",
                ),
            ),
        ),
        Shape(
            "search-unifiedauditlog-csv",
            "Search-UnifiedAuditLog | Export-Csv: the record as JSON in the AuditData column",
            (
                Capture(
                    "https://learn.microsoft.com/powershell/module/exchange/search-unifiedauditlog",
                    "the AuditData property holds the record's JSON",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("o365.audit",)),
        ElasticField(
            "event.action",
            "keyword",
            (
                "added-user-account",
                "Add User.",
                "Set-Mailbox",
                "New-InboxRule",
                "Set-InboxRule",
                "UserLoggedIn",
            ),
        ),
        ElasticField("event.provider", "keyword", ("AzureActiveDirectory", "Exchange")),
        ElasticField("user.id", "keyword"),
        ElasticField("o365.audit.ObjectId", "keyword"),
        ElasticField("source.ip", "ip"),
        *(
            ElasticField(f"o365.audit.Parameters.{name}", "keyword")
            for name in (
                "Identity",
                "ForwardingSmtpAddress",
                "ForwardingAddress",
                "ForwardTo",
                "RedirectTo",
                "ForwardAsAttachmentTo",
            )
        ),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/o365/data_stream/audit/elasticsearch/"
                "ingest_pipeline/default.yml",
                "Operation -> event.action, Add user. (exactly) -> added-user-account, Workload "
                "-> event.provider, UserId -> user.id, Parameters -> o365.audit.Parameters.<Name>, "
                "the first present of ClientIPAddress, ClientIP, ActorIpAddress -> source.ip "
                "without its port",
                "01dcefed928df2943fe587da87272b96931d1869",
            ),
            Capture(
                "elastic/integrations packages/o365/data_stream/audit/fields/fields.yml",
                "o365.audit.Parameters.* and o365.audit.ObjectId keywords",
                "ef18377c9d7b1ee6b3739dcf93ec988cf2154818",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "splunk/security_content data_sources/o365_set_mailbox.yml",
                "o365:management:activity fields: Operation, Workload, UserId, ObjectId, "
                "ClientIP, Parameters{}.Name, Parameters{}.Value",
                "b13b314aed0e1778335a55620474e7d27289a20a",
            ),
            Capture(
                "splunk/security_content data_sources/o365_update_user_.yml",
                "a RecordType 8 record with no ClientIP or ActorIpAddress key",
                "b13b314aed0e1778335a55620474e7d27289a20a",
            ),
        ),
        verified=True,
    ),
    delivery_lag_minutes=180,
    delivery_lag_reference=Capture(
        "https://learn.microsoft.com/office/office-365-management-api/"
        "troubleshooting-the-office-365-management-activity-api",
        "Microsoft: event availability typically 60 to 90 minutes for core services (Exchange, "
        "SharePoint, OneDrive, Teams), longer for others (Azure AD is not a core service), no "
        "committed time",
    ),
)
