"""Microsoft 365 Unified Audit Log."""

from __future__ import annotations

from types import MappingProxyType

from converters.datasources.model import ContainmentCommand, DataSource, Field


def _ual_param(name: str, address_key: str | None = None) -> Field:
    return Field(
        sigma=f"Parameters.{name}",
        splunk="Parameters{}.Value",
        elastic=f"o365.audit.Parameters.{name}",
        splunk_exact=(
            f"mvindex('Parameters{{}}.Value', mvfind('Parameters{{}}.Name', \"^{name}$\"))"
        ),
        address_key=address_key,
        description=f"Value of the cmdlet parameter {name}.",
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
    elastic_integration_version="^2.0.0",
    fields=(
        Field("Operation", "Operation", "event.action", description="Audited operation."),
        Field("Workload", "Workload", "event.provider"),
        Field("UserId", "UserId", "user.id", description="Acting user."),
        Field("ObjectId", "ObjectId", "o365.audit.ObjectId", description="Target object."),
        Field("ClientIP", "ClientIP", "source.ip", description="Actor's IP address."),
        Field("ResultStatus", "ResultStatus", "o365.audit.ResultStatus"),
        _ual_param("Identity"),
        _ual_param("ForwardingSmtpAddress", address_key="ual_forwarding_smtp_address"),
        _ual_param("ForwardingAddress", address_key="ual_forwarding_address"),
        _ual_param("ForwardTo", address_key="ual_forward_to"),
        _ual_param("RedirectTo", address_key="ual_redirect_to"),
        _ual_param("ForwardAsAttachmentTo", address_key="ual_forward_as_attachment_to"),
    ),
    # The o365 integration renames Azure AD operations (see its ingest pipeline).
    elastic_value_maps=MappingProxyType(
        {
            "Operation": MappingProxyType(
                {
                    "Add user.": "added-user-account",
                    "Update user.": "modified-user-account",
                    "Delete user.": "deleted-user-account",
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
)
