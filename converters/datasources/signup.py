"""An email service's own sign-up log: a generic logsource this package defines, for teams
that run a mail service (the playbook's "email service logs ... suspicious account
registrations"). One JSON object per sign-up attempt (NDJSON), documented in the README:

    {"ts": "2026-11-20T10:00:00Z", "event": "account.signup", "signup_id": "su-0001",
     "account": "new.user@mail.example", "src_ip": "203.0.113.9", "user_agent": "...",
     "recovery_email": "someone@example.org", "result": "success", "captcha": "passed"}

Splunk reads it as JSON (KV_MODE = json); Elastic through a custom-logs integration whose
ingest pipeline maps it as below (the README gives the mapping).
"""

from __future__ import annotations

from converters.datasources.model import (
    Capture,
    DataSource,
    ElasticField,
    Field,
    Shape,
    TargetEvidence,
)

MAIL_SIGNUP = DataSource(
    name="mail_signup",
    title="Mail service sign-up log (dac-t1585 schema)",
    product="mailservice",
    service="signup",
    raw_format="NDJSON, one object per sign-up attempt (see the README)",
    splunk_macro="dac_mail_signup",
    splunk_macro_definition='sourcetype="dac:mailservice:signup"',
    splunk_sourcetype="dac:mailservice:signup",
    elastic_indices=("logs-mailservice.signup-*",),
    elastic_dataset="mailservice.signup",
    elastic_integration="mailservice",
    elastic_integration_version="^1.0.0",
    elastic_fleet_package=False,  # a custom-logs setup of your own (README)
    fields=(
        Field("event", "event", "event.action", description="account.signup"),
        Field("account", "account", "user.email", description="The new mailbox address."),
        Field("src_ip", "src_ip", "source.ip", description="Where the sign-up came from."),
        Field("user_agent", "user_agent", "user_agent.original"),
        Field(
            "recovery_email",
            "recovery_email",
            "mailservice.signup.recovery_email",
            address_key="signup_recovery_email",
            description="The recovery address given at sign-up.",
        ),
        Field("result", "result", "event.outcome", description="success or failure"),
        Field("captcha", "captcha", "mailservice.signup.captcha"),
    ),
    # No containment commands: every mail service has its own admin tool.
    entities=(("New account", "account"), ("Source IP", "src_ip"), ("Recovery", "recovery_email")),
    shapes=(
        Shape(
            "ndjson",
            "One JSON object per sign-up attempt, the schema this package defines",
            (Capture("README.md, The sign-up log of a mail service you run", "the schema"),),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("mailservice.signup",)),
        ElasticField("event.action", "keyword", ("account.signup",)),
        ElasticField("user.email", "keyword"),
        ElasticField("source.ip", "ip"),
        ElasticField("user_agent.original", "keyword"),
        ElasticField("mailservice.signup.recovery_email", "keyword"),
        ElasticField("event.outcome", "keyword", ("success", "failure")),
        ElasticField("mailservice.signup.captcha", "keyword"),
    ),
    # The ingest mapping is this package's own (README): nothing to check it against.
    elastic_evidence=TargetEvidence(
        (Capture("README.md, The sign-up log of a mail service you run", "the mapping"),),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (Capture("README.md, The sign-up log of a mail service you run", "KV_MODE = json"),),
        verified=True,
    ),
    delivery_lag_minutes=10,
    delivery_lag_reference=Capture(
        "README.md, The sign-up log of a mail service you run",
        "your own service: 10 minutes assumed; set it to your pipeline's delay",
    ),
)
