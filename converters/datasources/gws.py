"""Google Workspace, Admin SDK Reports API."""

from __future__ import annotations

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
    shapes=(
        Shape(
            "reports-api",
            "Admin SDK Reports API activities (activities.list page or one activity per line): "
            "events a list, uniqueQualifier and profileId strings",
            (
                Capture(
                    "https://developers.google.com/workspace/admin/reports/v1/appendix/activity/"
                    "admin-user-settings",
                    "CREATE_USER (USER_EMAIL), USERS_BULK_UPLOAD (BULK_UPLOAD_TOTAL_USERS_NUMBER, "
                    "BULK_UPLOAD_FAIL_USERS_NUMBER), MAIL_ROUTING_DESTINATION_ADDED (USER_EMAIL, "
                    "NEW_VALUE)",
                ),
            ),
        ),
        Shape(
            "elastic-document",
            "One event per document with its activity (events one object), as Elastic's "
            "google_workspace integration ingests it; ids may be numbers",
            (
                Capture(
                    "elastic/integrations packages/google_workspace/data_stream/admin/_dev/test/"
                    "pipeline/test-admin.log",
                    "events as one object; id.uniqueQualifier and actor.profileId as numbers",
                    "b315beea9237de1bf1c3e9940fb3332153b9de07",
                ),
                Capture(
                    "elastic/integrations packages/google_workspace/data_stream/admin/agent/"
                    "stream/httpjson.yml.hbs",
                    "the input splits body.items, then body.events, keeping the parent",
                    "3029f79b887dbef715b9a9325e031ee74ec4564b",
                ),
            ),
        ),
        Shape(
            "splunk-event",
            "One event per record under the singular key event, as the Splunk Add-on for "
            "Google Workspace stores it (gws:reports:admin)",
            (
                Capture(
                    "splunk/security_content data_sources/google_workspace.yml",
                    "example log of an admin activity: kind, id, etag, actor, ipAddress, event "
                    "(one object with type, name, parameters); ids as strings",
                    "2a60eb067067ee88fa694f2ce41af70f0a3fa75a",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("google_workspace.admin",)),
        ElasticField(
            "event.action",
            "keyword",
            ("CREATE_USER", "USERS_BULK_UPLOAD", "MAIL_ROUTING_DESTINATION_ADDED"),
        ),
        ElasticField("event.provider", "keyword", ("admin",)),
        ElasticField("google_workspace.event.type", "keyword", ("USER_SETTINGS",)),
        ElasticField("google_workspace.actor.type", "keyword"),
        ElasticField("source.user.email", "keyword"),
        ElasticField("source.ip", "ip"),
        ElasticField("google_workspace.admin.user.email", "keyword"),
        ElasticField("google_workspace.admin.new_value", "keyword"),
        ElasticField("google_workspace.admin.bulk_upload.total", "long"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/google_workspace/data_stream/admin/_dev/test/"
                "pipeline/"
                "test-admin-user.log-expected.json",
                "CREATE_USER, USERS_BULK_UPLOAD, MAIL_ROUTING_DESTINATION_ADDED as event.action; "
                "source.user.email, source.ip, google_workspace.admin.user.email, "
                "google_workspace.admin.new_value, google_workspace.admin.bulk_upload.total "
                "(a number), google_workspace.event.type USER_SETTINGS, event.provider admin",
                "0c3c51de095249d4f2dd9cc5b0f96b38a8dc71a2",
            ),
            Capture(
                "elastic/integrations packages/google_workspace/data_stream/admin/fields/"
                "fields.yml",
                "google_workspace.admin.bulk_upload.total: long",
                "20ecb2c14f28614e81ff6b61362550f66c0e1cc9",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "splunk/security_content data_sources/google_workspace.yml",
                "gws:reports:admin fields: event.name, event.type, actor.email, ipAddress, "
                "id.applicationName, event.parameters{}.name, event.parameters{}.value",
                "2a60eb067067ee88fa694f2ce41af70f0a3fa75a",
            ),
        ),
        # intValue parameters (the bulk-upload count) were seen in no Splunk record: the
        # search reads each parameter's JSON object, whatever key holds its value.
        verified=False,
    ),
    delivery_lag_minutes=120,
    delivery_lag_reference=Capture(
        "https://support.google.com/a/answer/7061566",
        "Google's data retention and lag times: admin log events near real time (a couple of "
        "minutes), other applications up to hours, with no bound; Elastic's prebuilt Google "
        "Workspace rules look back 130 minutes for this lag",
    ),
)
