"""Google Workspace, Admin SDK Reports API."""

from __future__ import annotations

from converters.datasources.model import ContainmentCommand, DataSource, Field


def _gws_param(
    name: str, elastic: str, address_key: str | None = None, *, numeric: bool = False
) -> Field:
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
        numeric=numeric,
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
        # USERS_BULK_UPLOAD: how many accounts the uploaded CSV held (an intValue).
        _gws_param(
            "BULK_UPLOAD_TOTAL_USERS_NUMBER",
            "google_workspace.admin.bulk_upload.total",
            numeric=True,
        ),
    ),
    entities=(
        ("Acting admin", "actor.email"),
        ("Source IP", "ipAddress"),
        ("Account", "parameters.USER_EMAIL"),
        ("New value", "parameters.NEW_VALUE"),
        ("Accounts in the bulk upload", "parameters.BULK_UPLOAD_TOTAL_USERS_NUMBER"),
    ),
    # GAM (the Google Workspace admin CLI) commands.
    containment=(
        ContainmentCommand(
            "Suspend the created account",
            "gam update user {parameters.USER_EMAIL} suspended on",
            ("bulk-account-creation", "untraceable-account"),
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
