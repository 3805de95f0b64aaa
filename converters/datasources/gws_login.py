"""Google Workspace login audit (Admin SDK Reports API, ``applicationName=login``).

Sigma field names are the Reports API activity as converters.engine.formats flattens any
application's activity: the activity's keys with dots (``actor.email``, ``ipAddress``), the
current event as ``event.name`` / ``event.type``, each event parameter as
``parameters.<name>``.

Verified, and where:

- Google, "Login Audit Activity Events" (developers.google.com/workspace/admin/reports/v1/
  appendix/activity/login) and its guide (manage-audit-login: ``eventName=login_success``,
  ``filters=is_suspicious==true``): events of type ``login`` named ``login_success``,
  ``login_failure``, ``login_challenge``, ``login_verification``, ``logout``; their parameters
  ``login_type`` (a string: ``google_password``, ``saml``, ``exchange``, ...),
  ``login_challenge_method`` (a ``multiValue`` list), ``is_suspicious`` (a ``boolValue``),
  ``login_failure_type``. The actor (``actor.email``) is the account that signed in;
  ``ipAddress`` is where from. Activities as the API returns them: elastic/integrations
  ``packages/google_workspace/data_stream/login/_dev/test/pipeline/test-login.log``.
- Elastic, data stream ``google_workspace.login`` (ingest pipeline
  ``elasticsearch/ingest_pipeline/default.yml``; the field list of the package docs):
  ``events.name`` -> ``event.action`` (kept as is: ``login_success``), ``id.applicationName``
  -> ``event.provider``, ``actor.email`` -> ``source.user.email`` (and ``user.email``),
  ``ipAddress`` -> ``source.ip``, ``events.type`` -> ``google_workspace.event.type``; the
  parameters go under ``google_workspace.login.*`` with the ``login_`` prefix dropped
  (``login_type`` -> ``google_workspace.login.type``, ``login_challenge_method`` ->
  ``.challenge_method``); ``event.outcome`` is success / failure for login_success /
  login_failure.
- Splunk, Splunk Add-on for Google Workspace, sourcetype ``gws:reports:login``:
  splunk/security_content detections on it search ``event.name=login_failure``,
  ``event.type=login`` and ``event.parameters{}.multiValue{}`` (the same singular ``event``
  object with its name/value parameter lists as ``gws:reports:admin``), and
  ``id.applicationName``.

Inferred, not seen in a document:

- ``google_workspace.login.is_suspicious`` is listed in the package's fields (boolean); the
  pipeline version read copies only ``value``, ``intValue`` and ``multiValue`` parameters, so
  it is set by a later version only.
- In Splunk the parameters are parallel multivalue lists per value kind (``value``,
  ``boolValue``, ``multiValue{}``): a parameter's position among the names is not its
  position among the values when parameters of other kinds precede it. Each scalar
  parameter is therefore read from its own JSON object (converters.datasources.gws,
  ``gws_parameter_value``); ``login_challenge_method`` (a list) is left as the add-on's
  ``event.parameters{}.multiValue{}``, which no rule compares.
- The add-on's own aliases (``user``, ``src_ip``, ``login_challenge_method`` appear in those
  detections) are not used: their definitions were not available.
"""

from __future__ import annotations

from converters.datasources.gws import GWS_PRELUDE, gws_parameter
from converters.datasources.model import (
    Capture,
    ContainmentCommand,
    DataSource,
    ElasticField,
    Field,
    Shape,
    TargetEvidence,
)

GWS_LOGIN = DataSource(
    name="gws_login",
    title="Google Workspace login audit (Reports API, login application)",
    product="gcp",
    service="google_workspace.login",
    raw_format="Admin SDK Reports API activity (activities.list, applicationName=login)",
    splunk_macro="dac_gws_login",
    splunk_macro_definition='sourcetype="gws:reports:login"',
    splunk_sourcetype="gws:reports:login",
    elastic_indices=("logs-google_workspace.login-*",),
    elastic_dataset="google_workspace.login",
    elastic_integration="google_workspace",
    elastic_integration_version="^2.0.0",
    splunk_prelude=GWS_PRELUDE,
    fields=(
        Field(
            "event.name",
            "event.name",
            "event.action",
            description="Login event name (login_success, login_failure, logout, ...).",
        ),
        Field("event.type", "event.type", "google_workspace.event.type"),
        Field(
            "actor.email",
            "actor.email",
            "source.user.email",
            description="The account that signed in.",
        ),
        Field("ipAddress", "ipAddress", "source.ip", description="Where the sign-in came from."),
        Field("id.applicationName", "id.applicationName", "event.provider"),
        gws_parameter(
            "login_type",
            "google_workspace.login.type",
            description="Credential used (google_password, saml, ...).",
        ),
        gws_parameter(
            "login_failure_type",
            "google_workspace.login.failure_type",
            description="Why a sign-in failed.",
        ),
        Field(
            "parameters.login_challenge_method",
            "event.parameters{}.multiValue{}",
            "google_workspace.login.challenge_method",
            description="Challenges passed or offered (password, security_key, ...).",
        ),
        gws_parameter(
            "is_suspicious",
            "google_workspace.login.is_suspicious",
            description="Google's own suspicious-login verdict (a boolValue).",
        ),
    ),
    entities=(
        ("Account", "actor.email"),
        ("Source IP", "ipAddress"),
        ("Login type", "parameters.login_type"),
        ("Suspicious per Google", "parameters.is_suspicious"),
    ),
    # GAM (the Google Workspace admin CLI) commands; shown, never run.
    containment=(
        ContainmentCommand(
            "Sign the account out everywhere and force a password change",
            "gam user {actor.email} signout; gam update user {actor.email} changepassword on",
            ("untraceable-account", "suspicious-source-ip"),
        ),
    ),
    shapes=(
        Shape(
            "reports-api",
            "Admin SDK Reports API login activities (events a list)",
            (
                Capture(
                    "https://developers.google.com/workspace/admin/reports/v1/appendix/activity/"
                    "login",
                    "login_success with login_type, login_challenge_method (multiValue), "
                    "is_suspicious (boolValue)",
                ),
            ),
        ),
        Shape(
            "elastic-document",
            "One event per document (events one object), as Elastic's integration ingests it",
            (
                Capture(
                    "elastic/integrations packages/google_workspace/data_stream/login/_dev/test/"
                    "pipeline/test-login.log",
                    "login_success lines with events as one object; a 2025 capture with string "
                    "ids and a multiValue login_challenge_method",
                    "20ecb2c14f28614e81ff6b61362550f66c0e1cc9",
                ),
            ),
        ),
        Shape(
            "splunk-event",
            "One event per record under the singular key event (gws:reports:login)",
            (
                Capture(
                    "splunk/security_content data_sources/google_workspace_login_success.yml",
                    "example log of login_success: event one object, parameters with value, "
                    "multiValue and boolValue; ids as strings",
                    "2a60eb067067ee88fa694f2ce41af70f0a3fa75a",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("google_workspace.login",)),
        ElasticField("event.action", "keyword", ("login_success", "login_failure")),
        ElasticField("event.provider", "keyword", ("login",)),
        ElasticField("google_workspace.event.type", "keyword", ("login",)),
        ElasticField("source.user.email", "keyword"),
        ElasticField("source.ip", "ip"),
        ElasticField("google_workspace.login.type", "keyword"),
        ElasticField("google_workspace.login.failure_type", "keyword"),
        ElasticField("google_workspace.login.challenge_method", "keyword"),
        ElasticField("google_workspace.login.is_suspicious", "boolean"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/google_workspace/data_stream/login/elasticsearch/"
                "ingest_pipeline/"
                "default.yml",
                "events.name -> event.action (login_success), actor.email -> "
                "source.user.email and user.email, ipAddress -> source.ip, parameters under "
                "google_workspace.login.* without their login_ prefix",
                "01d08b40fb00aa80b1a41c3a567a291c559e22ea",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "splunk/security_content data_sources/google_workspace_login_success.yml",
                "gws:reports:login fields: event.name, event.type, actor.email, ipAddress, "
                "event.parameters{}.name / .value / .boolValue / .multiValue{}",
                "2a60eb067067ee88fa694f2ce41af70f0a3fa75a",
            ),
        ),
        verified=True,
    ),
    delivery_lag_minutes=120,
    delivery_lag_reference=Capture(
        "https://support.google.com/a/answer/7061566",
        "Google's data retention and lag times (login events: minutes, user account changes: "
        "tens of minutes); Elastic's login input waits 30 minutes and its prebuilt rules look "
        "back 130",
    ),
)
