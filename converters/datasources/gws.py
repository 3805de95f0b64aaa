"""Google Workspace, Admin SDK Reports API."""

from __future__ import annotations

from converters.datasources.model import ContainmentCommand, DataSource, Field, json_list_value

# The Splunk add-on keeps an event's parameters as one JSON list; the automatic extraction
# gives one multivalue field per value kind (event.parameters{}.value, .intValue, .boolValue,
# .multiValue{}) whose positions do not line up with event.parameters{}.name as soon as the
# kinds mix (USERS_BULK_UPLOAD: BULK_UPLOAD_TOTAL_USERS_NUMBER is an intValue). So every
# search of the source first takes the list whole, one JSON object per parameter, and each
# parameter's value is read from its own object (json_extract and mvmap: Splunk 8.1 or later).
GWS_PARAMETERS = "dac_gws_parameters"
GWS_PRELUDE = f"| spath output={GWS_PARAMETERS} path=event.parameters{{}}"


def gws_parameter_value(name: str) -> str:
    """The SPL expression of a scalar parameter's value, whichever of value, intValue or
    boolValue holds it."""
    return json_list_value(GWS_PARAMETERS, "name", ("value", "intValue", "boolValue"), name)


def gws_parameter(
    name: str,
    elastic: str,
    address_key: str | None = None,
    *,
    numeric: bool = False,
    sigma_prefix: str = "parameters.",
    description: str = "",
) -> Field:
    return Field(
        sigma=f"{sigma_prefix}{name}",
        splunk="event.parameters{}.intValue" if numeric else "event.parameters{}.value",
        elastic=elastic,
        splunk_exact=gws_parameter_value(name),
        splunk_presence=f'"event.parameters{{}}.name"="{name}"',
        address_key=address_key,
        description=description or f"Value of the event parameter {name}.",
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
    splunk_prelude=GWS_PRELUDE,
    fields=(
        Field("event.name", "event.name", "event.action", description="Admin event name."),
        Field("event.type", "event.type", "google_workspace.event.type"),
        Field("actor.email", "actor.email", "source.user.email", description="Acting admin."),
        Field("actor.callerType", "actor.callerType", "google_workspace.actor.type"),
        Field("ipAddress", "ipAddress", "source.ip", description="Actor's IP address."),
        Field("id.applicationName", "id.applicationName", "event.provider"),
        gws_parameter("USER_EMAIL", "google_workspace.admin.user.email"),
        gws_parameter("NEW_VALUE", "google_workspace.admin.new_value", address_key="gws_new_value"),
        # USERS_BULK_UPLOAD: how many accounts the uploaded CSV held (an intValue).
        gws_parameter(
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
