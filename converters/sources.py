"""Data sources: one place that says, per Sigma logsource, how each target stores the data.

A rule field that is not listed for a source is an error (no silent non-matching query).
Field names on the Sigma side follow the raw log format (Reports API activity, UAL record),
flattened with dots; event parameters become ``parameters.<NAME>`` / ``Parameters.<Name>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Field:
    """One rule field and where each target keeps it."""

    sigma: str
    splunk: str
    elastic: str
    # SPL expression giving the exact value where ``splunk`` is a multivalue stand-in
    # (event parameters are name/value lists in the Splunk add-ons).
    splunk_exact: str | None = None
    # Key of the Elastic ingest-time disposable-domain enrichment for address fields.
    address_key: str | None = None
    description: str = ""

    @property
    def splunk_result(self) -> str:
        """Where an alert's result holds the field's exact value: the add-on field itself,
        or, for a multivalue stand-in, the field the search evaluates from splunk_exact."""
        if self.splunk_exact is None:
            return self.splunk
        return "dac_" + re.sub(r"\W+", "_", self.sigma).lower()


@dataclass(frozen=True)
class ContainmentCommand:
    """A command that contains what a rule of these indicators found. ``{field}`` names a rule
    field whose value the alert fills in; the command is shown, never run."""

    action: str
    template: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class DataSource:
    """A Sigma logsource and its targets' storage."""

    name: str
    title: str
    product: str
    service: str
    raw_format: str
    splunk_macro: str
    splunk_macro_definition: str
    splunk_sourcetype: str
    elastic_indices: tuple[str, ...]
    elastic_dataset: str
    elastic_integration: str
    elastic_integration_version: str
    fields: tuple[Field, ...]
    # Sigma value -> Elastic value, per Sigma field, where the integration rewrites values.
    elastic_value_maps: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Fields that identify the alert's entities, in reading order: (label, sigma field).
    entities: tuple[tuple[str, str], ...] = ()
    containment: tuple[ContainmentCommand, ...] = ()

    def field(self, sigma_name: str) -> Field | None:
        for f in self.fields:
            if f.sigma == sigma_name:
                return f
        return None

    def field_names(self) -> list[str]:
        return [f.sigma for f in self.fields]

    def splunk_map(self) -> dict[str, str]:
        return {f.sigma: f.splunk for f in self.fields}

    def elastic_map(self) -> dict[str, str]:
        return {f.sigma: f.elastic for f in self.fields}


def _gws_param(name: str, elastic: str, address_key: str | None = None) -> Field:
    return Field(
        sigma=f"parameters.{name}",
        splunk="event.parameters{}.value",
        elastic=elastic,
        splunk_exact=(
            f"mvindex('event.parameters{{}}.value', "
            f"mvfind('event.parameters{{}}.name', \"^{name}$\"))"
        ),
        address_key=address_key,
        description=f"Value of the event parameter {name}.",
    )


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


GWS_ADMIN = DataSource(
    name="gws_admin",
    title="Google Workspace Admin audit (Reports API, admin application)",
    product="gcp",
    service="google_workspace.admin",
    raw_format="Admin SDK Reports API activity (activities.list, applicationName=admin)",
    splunk_macro="dac_gws_admin",
    splunk_macro_definition='sourcetype="gws:reports:admin"',
    splunk_sourcetype="gws:reports:admin",
    elastic_indices=("logs-google_workspace.admin-*",),
    elastic_dataset="google_workspace.admin",
    elastic_integration="google_workspace",
    elastic_integration_version="^2.0.0",
    fields=(
        Field("event.name", "event.name", "event.action", description="Admin event name."),
        Field("event.type", "event.type", "google_workspace.event.type"),
        Field("actor.email", "actor.email", "source.user.email", description="Acting admin."),
        Field("actor.callerType", "actor.callerType", "google_workspace.actor.type"),
        Field("ipAddress", "ipAddress", "source.ip", description="Actor's IP address."),
        Field("id.applicationName", "id.applicationName", "event.provider"),
        _gws_param("USER_EMAIL", "google_workspace.admin.user.email"),
        _gws_param("NEW_VALUE", "google_workspace.admin.new_value", address_key="gws_new_value"),
    ),
    entities=(
        ("Acting admin", "actor.email"),
        ("Source IP", "ipAddress"),
        ("Account", "parameters.USER_EMAIL"),
        ("New value", "parameters.NEW_VALUE"),
    ),
    # GAM (the Google Workspace admin CLI) commands.
    containment=(
        ContainmentCommand(
            "Suspend the created account",
            "gam update user {parameters.USER_EMAIL} suspended on",
            ("bulk-account-creation",),
        ),
        ContainmentCommand(
            "Sign the acting admin out everywhere and force a password change",
            "gam user {actor.email} signout; gam update user {actor.email} changepassword on",
            ("bulk-account-creation", "disposable-email-domain"),
        ),
        ContainmentCommand(
            "List the routing settings, then delete the destination in the Admin console "
            "(Apps > Gmail > Routing)",
            "gam print routing",
            ("disposable-email-domain",),
        ),
    ),
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
            ("bulk-account-creation",),
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

SOURCES: tuple[DataSource, ...] = (GWS_ADMIN, M365_AUDIT)


def find_source(product: str | None, service: str | None) -> DataSource | None:
    for source in SOURCES:
        if source.product == product and source.service == service:
            return source
    return None


def source_by_name(name: str) -> DataSource:
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(name)


def address_fields() -> list[tuple[DataSource, Field]]:
    """Every address field that the disposable-domain enrichment must inspect."""
    return [(s, f) for s in SOURCES for f in s.fields if f.address_key]
