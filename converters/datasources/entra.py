"""Microsoft Entra ID audit log (Microsoft Graph ``directoryAudits``).

Sigma field names are the Graph names as converters.engine.formats flattens a directoryAudit
record: nested objects with dots (``initiatedBy.user.ipAddress``), a list of objects as one
multivalue field per key (``targetResources.userPrincipalName``,
``targetResources.modifiedProperties.displayName``, ``additionalDetails.value``).

Where the targets keep them (checked against public sources, see each note):

- Splunk: sourcetype ``azure:monitor:aad`` of the Splunk Add-on for Microsoft Cloud Services
  (Event Hub input fed by the Entra ID diagnostic setting "AuditLogs"). The event is Azure
  Monitor's diagnostic envelope: ``operationName`` (= activityDisplayName) and ``category``
  (always ``AuditLogs``) at the top, the directoryAudit itself under ``properties``, arrays
  extracted by KV_MODE=json with ``{}`` (``properties.targetResources{}.userPrincipalName``),
  so every value of a list is one multivalue field and ``field=value`` means "any value".
  Confirmed in splunk/security_content detections written for ``azure:monitor:aad``
  (``operationName``, ``properties.initiatedBy.user.userPrincipalName``, ``properties.result``,
  ``properties.targetResources{}.type``,
  ``properties.targetResources{}.modifiedProperties{}.displayName`` / ``.newValue``); the
  other ``properties.*`` names follow from the same extraction of the documented diagnostic
  schema and were seen in public searches, not in the add-on's own configuration files.
- Elastic: ``azure`` integration, data stream ``azure.auditlogs``; names from its ingest
  pipeline (packages/azure/data_stream/auditlogs/elasticsearch/ingest_pipeline/default.yml)
  and fields.yml in elastic/integrations: ``operationName`` -> ``azure.auditlogs.operation_name``
  (also ``event.action``), ``properties.result`` -> ``event.outcome`` (when success/failure),
  ``properties.initiatedBy`` -> ``azure.auditlogs.properties.initiated_by`` (inner names kept in
  camelCase), ``additionalDetails`` -> ``azure.auditlogs.properties.additional_details`` (a list
  of key/value objects, so ``.key``/``.value`` are multi-valued keywords). ``targetResources``
  is rewritten by a painless script into an object keyed by *position*:
  ``azure.auditlogs.properties.target_resources.<i>.user_principal_name`` and
  ``...target_resources.<i>.modified_properties.<j>.display_name``. The target fields below
  therefore read the first target resource (position 0: the user for ``Add user`` and
  ``Invite external user``, which name one target), and the modified properties have no single
  Elastic field at all: EQL cannot test "any position" (no wildcard field names), so no rule
  may use them on Elastic (entra_user_without_hr_attributes opts out of Elastic).
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

_PROPERTIES = "azure.auditlogs.properties"
_FIRST_TARGET = f"{_PROPERTIES}.target_resources.0"
# No single Elastic field holds "any modified property" (positions <i>.<j>, see above). The
# wildcard path names where the values are, as Kibana's field list and KQL show them; EQL has
# no such field, so a rule that tests these fields must skip Elastic.
_MODIFIED = f"{_PROPERTIES}.target_resources.*.modified_properties.*"


ENTRA_AUDIT = DataSource(
    name="entra_audit",
    title="Microsoft Entra ID audit log (directoryAudits)",
    product="azure",
    service="auditlogs",
    raw_format="Microsoft Graph directoryAudit record (auditLogs/directoryAudits)",
    splunk_macro="dac_entra_audit",
    splunk_macro_definition='sourcetype="azure:monitor:aad" category="AuditLogs"',
    splunk_sourcetype="azure:monitor:aad",
    elastic_indices=("logs-azure.auditlogs-*",),
    elastic_dataset="azure.auditlogs",
    elastic_integration="azure",
    elastic_integration_version="^1.0.0",
    # packages/azure/manifest.yml (1.18.0, commit 00fbc5accb17c6b6bb9281b4b33ca9cdf6e0dd7f):
    # the auditlogs data stream belongs to the adlogs policy template (Microsoft Entra ID).
    elastic_policy_template="adlogs",
    fields=(
        Field(
            "activityDisplayName",
            "operationName",
            "azure.auditlogs.operation_name",
            description="Audited activity (Add user, Invite external user, ...).",
        ),
        Field(
            "category",
            "properties.category",
            f"{_PROPERTIES}.category",
            description="Activity category (UserManagement, ...).",
        ),
        Field(
            "result",
            "properties.result",
            # The pipeline moves properties.result to event.outcome when it is success or
            # failure (the values the rules test); other values stay in properties.result.
            "event.outcome",
            description="success or failure.",
        ),
        Field("loggedByService", "properties.loggedByService", f"{_PROPERTIES}.logged_by_service"),
        Field("operationType", "properties.operationType", f"{_PROPERTIES}.operation_type"),
        Field(
            "initiatedBy.user.userPrincipalName",
            "properties.initiatedBy.user.userPrincipalName",
            f"{_PROPERTIES}.initiated_by.user.userPrincipalName",
            description="Acting user.",
        ),
        Field(
            "initiatedBy.user.ipAddress",
            "properties.initiatedBy.user.ipAddress",
            f"{_PROPERTIES}.initiated_by.user.ipAddress",
            description="Acting user's IP address.",
        ),
        Field(
            "initiatedBy.user.id",
            "properties.initiatedBy.user.id",
            f"{_PROPERTIES}.initiated_by.user.id",
        ),
        Field(
            "callerIpAddress",
            "callerIpAddress",
            "source.ip",
            description=(
                "Address of the caller (the Azure Monitor record's callerIpAddress; from Graph, "
                "the initiating user's address)."
            ),
        ),
        Field(
            "initiatedBy.app.displayName",
            "properties.initiatedBy.app.displayName",
            f"{_PROPERTIES}.initiated_by.app.displayName",
            description="Acting application (directory sync, provisioning service, ...).",
        ),
        Field(
            "initiatedBy.app.servicePrincipalId",
            "properties.initiatedBy.app.servicePrincipalId",
            f"{_PROPERTIES}.initiated_by.app.servicePrincipalId",
        ),
        Field(
            "targetResources.userPrincipalName",
            "properties.targetResources{}.userPrincipalName",
            f"{_FIRST_TARGET}.user_principal_name",
            description="Target account (Elastic: the first target resource).",
        ),
        Field(
            "targetResources.id",
            "properties.targetResources{}.id",
            f"{_FIRST_TARGET}.id",
            description="Target object id (Elastic: the first target resource).",
        ),
        Field(
            "targetResources.type",
            "properties.targetResources{}.type",
            f"{_FIRST_TARGET}.type",
        ),
        Field(
            "targetResources.displayName",
            "properties.targetResources{}.displayName",
            f"{_FIRST_TARGET}.display_name",
        ),
        Field(
            "targetResources.modifiedProperties.displayName",
            "properties.targetResources{}.modifiedProperties{}.displayName",
            f"{_MODIFIED}.display_name",
            description="Names of the properties the activity set (no single Elastic field).",
        ),
        Field(
            "targetResources.modifiedProperties.newValue",
            "properties.targetResources{}.modifiedProperties{}.newValue",
            f"{_MODIFIED}.new_value",
            description="New values of those properties (no single Elastic field).",
        ),
        Field(
            "additionalDetails.key",
            "properties.additionalDetails{}.key",
            f"{_PROPERTIES}.additional_details.key",
        ),
        Field(
            "additionalDetails.value",
            "properties.additionalDetails{}.value",
            f"{_PROPERTIES}.additional_details.value",
            # Every value, joined: the disposable-domain test extracts each address in it
            # (Invite external user keeps the invited address under invitedUserEmailAddress).
            splunk_exact="mvjoin('properties.additionalDetails{}.value', \" \")",
            address_key="entra_additional_details_value",
            description="Additional detail values (UserType, invitedUserEmailAddress, ...).",
        ),
    ),
    entities=(
        ("Acting user", "initiatedBy.user.userPrincipalName"),
        ("Acting application", "initiatedBy.app.displayName"),
        ("Source IP", "initiatedBy.user.ipAddress"),
        ("Target account", "targetResources.userPrincipalName"),
        ("Target object id", "targetResources.id"),
    ),
    # Microsoft Graph PowerShell (Microsoft.Graph.Users); shown, never run.
    containment=(
        ContainmentCommand(
            "Block sign-in of the added account",
            "Update-MgUser -UserId '{targetResources.id}' -AccountEnabled:$false",
            ("bulk-account-creation", "untraceable-account"),
        ),
        ContainmentCommand(
            "Revoke the acting user's sessions",
            "Revoke-MgUserSignInSession -UserId '{initiatedBy.user.userPrincipalName}'",
            ("bulk-account-creation", "disposable-email-domain", "untraceable-account"),
        ),
        ContainmentCommand(
            "Delete the invited guest account (its pending invitation goes with it)",
            "Remove-MgUser -UserId '{targetResources.id}'",
            ("disposable-email-domain",),
        ),
    ),
    shapes=(
        Shape(
            "graph",
            "Microsoft Graph directoryAudits (a response page with value, or records)",
            (
                Capture(
                    "https://learn.microsoft.com/graph/api/resources/directoryaudit",
                    "activityDisplayName, activityDateTime, result, initiatedBy, "
                    "targetResources, additionalDetails",
                ),
            ),
        ),
        Shape(
            "azure-monitor",
            "Azure Monitor diagnostic records (Event Hub or storage export: "
            '{"records": [...]}, a JSON array or one per line): time, operationName, '
            "category AuditLogs, callerIpAddress, the directoryAudit under properties",
            (
                Capture(
                    "elastic/integrations packages/azure/data_stream/auditlogs/_dev/test/pipeline/"
                    "test-audit-logs-sample.log",
                    "time, operationName, category AuditLogs, resultSignature, callerIpAddress, "
                    "properties{activityDisplayName, result, initiatedBy, targetResources, "
                    "additionalDetails}",
                    "0c1eadf30b8ad10380234dcf615b435f9105dc7a",
                ),
                Capture(
                    "splunk/security_content data_sources/azure_active_directory_update_user.yml",
                    "a captured Update user record: callerIpAddress equal to "
                    "properties.initiatedBy.user.ipAddress",
                    "b13b314aed0e1778335a55620474e7d27289a20a",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("azure.auditlogs",)),
        ElasticField(
            "azure.auditlogs.operation_name", "keyword", ("Add user", "Invite external user")
        ),
        ElasticField("event.outcome", "keyword", ("success", "failure")),
        ElasticField("source.ip", "ip"),
        *(
            ElasticField(f"{_PROPERTIES}.{name}", "keyword")
            for name in (
                "category",
                "logged_by_service",
                "operation_type",
                "initiated_by.user.userPrincipalName",
                "initiated_by.user.ipAddress",
                "initiated_by.user.id",
                "initiated_by.app.displayName",
                "initiated_by.app.servicePrincipalId",
                "target_resources.0.user_principal_name",
                "target_resources.0.id",
                "target_resources.0.type",
                "target_resources.0.display_name",
                "additional_details.key",
                "additional_details.value",
            )
        ),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/azure/data_stream/auditlogs/elasticsearch/"
                "ingest_pipeline/default.yml",
                "operationName -> azure.auditlogs.operation_name and event.action; "
                "properties.result -> event.outcome; callerIpAddress -> source.ip; initiatedBy "
                "-> initiated_by (camelCase inside); targetResources keyed by position",
                "8f7e7ee3623df0ac82466ac3887ed7e5941b66fc",
            ),
            Capture(
                "elastic/integrations packages/azure/data_stream/auditlogs/fields/fields.yml",
                "initiated_by.user.ipAddress, target_resources.*.user_principal_name, "
                "additional_details.key/value: keywords",
                "0b97ab02df57b57303b67e48840bb75dfe5c4738",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "splunk/security_content data_sources/azure_active_directory_update_user.yml",
                "azure:monitor:aad fields: operationName, callerIpAddress, "
                "properties.initiatedBy.user.userPrincipalName / .ipAddress, "
                "properties.targetResources{}.userPrincipalName, properties.result",
                "b13b314aed0e1778335a55620474e7d27289a20a",
            ),
        ),
        verified=True,
    ),
    delivery_lag_minutes=30,
    delivery_lag_reference=Capture(
        "https://learn.microsoft.com/entra/identity/monitoring-health/"
        "howto-stream-logs-to-event-hub",
        "Microsoft: audit logs reach the event hub within about 15 minutes (and the audit log "
        "itself within minutes)",
    ),
)
