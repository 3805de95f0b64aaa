"""The words the logic line is made of: what each log, event and field is called in a sentence.

Keyed by data source name (converters/datasources/) and Sigma field, so that a rule's detection
reads as a sentence without naming selections, modifiers or placeholders
(converters.playbook.logic). A field missing here is named by its data-source description, or
as "the field X": the sentence stays true, only plainer.
"""

from __future__ import annotations

# (log, what one of its events is when the rule names no event type)
SOURCES: dict[str, tuple[str, str]] = {
    "gws_admin": ("the Google Workspace admin log", "an admin action"),
    "gws_login": ("the Google Workspace login log", "a sign-in event"),
    "gws_gmail": ("the Gmail log", "a message"),
    "m365_audit": ("the Unified Audit Log", "an operation"),
    "m365_message_trace": ("message trace", "a message"),
    "entra_audit": ("the Entra ID audit log", "a directory change"),
    "proxy": ("the web proxy log", "a request"),
    "firewall": ("the firewall log", "a session"),
    "zeek_dns": ("the DNS log", "a lookup"),
    "mail_signup": ("the mail service's sign-up log", "a sign-up attempt"),
}

# (source, field, value) -> (the event, said singular; said plural, for counts)
EVENTS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("gws_admin", "event.name", "CREATE_USER"): (
        "a user account created",
        "user accounts created",
    ),
    ("gws_admin", "event.name", "USERS_BULK_UPLOAD"): (
        "a bulk upload of user accounts",
        "bulk uploads of user accounts",
    ),
    ("gws_admin", "event.name", "MAIL_ROUTING_DESTINATION_ADDED"): (
        "a mail routing destination added",
        "mail routing destinations added",
    ),
    ("gws_login", "event.name", "login_success"): ("a successful sign-in", "successful sign-ins"),
    ("gws_gmail", "event_info.mail_event_type", "1"): ("a message sent", "messages sent"),
    ("gws_gmail", "event_info.mail_event_type", "2"): ("a message received", "messages received"),
    ("m365_audit", "Operation", "Add user."): ("a user account added", "user accounts added"),
    ("m365_audit", "Operation", "UserLoggedIn"): ("a successful sign-in", "successful sign-ins"),
    ("m365_audit", "Operation", "Set-Mailbox"): (
        "a mailbox's settings changed",
        "mailbox settings changed",
    ),
    ("m365_audit", "Operation", "New-InboxRule"): (
        "an inbox rule created",
        "inbox rules created",
    ),
    ("m365_audit", "Operation", "Set-InboxRule"): (
        "an inbox rule changed",
        "inbox rules changed",
    ),
    ("entra_audit", "activityDisplayName", "Add user"): (
        "a user account added",
        "user accounts added",
    ),
    ("entra_audit", "activityDisplayName", "Invite external user"): (
        "a guest user invited",
        "guest users invited",
    ),
    ("mail_signup", "event", "account.signup"): ("a mailbox signed up", "mailboxes signed up"),
    ("m365_message_trace", "Status", "Delivered"): ("a message delivered", "messages delivered"),
    ("m365_message_trace", "Status", "Pending"): (
        "a message pending delivery",
        "messages pending delivery",
    ),
    ("proxy", "cs-method", "CONNECT"): ("a tunnel (CONNECT) request", "tunnel requests"),
}

# Tests that narrow without changing what the event is, said after it ("successfully"), or
# not at all (None: the event name already implies them).
QUALIFIERS: dict[tuple[str, str, str], str | None] = {
    ("m365_audit", "Workload", "AzureActiveDirectory"): None,
    ("entra_audit", "result", "success"): "successfully",
    ("mail_signup", "result", "success"): "successfully",
}

# (source, field) -> the field in a sentence
FIELDS: dict[tuple[str, str], str] = {
    ("gws_admin", "actor.email"): "the acting admin",
    ("gws_admin", "ipAddress"): "the admin's IP address",
    ("gws_admin", "parameters.USER_EMAIL"): "the account",
    ("gws_admin", "parameters.NEW_VALUE"): "the new routing destination",
    ("gws_admin", "parameters.BULK_UPLOAD_TOTAL_USERS_NUMBER"): "the number of accounts uploaded",
    ("gws_gmail", "message_info.source.address"): "the sender",
    ("gws_gmail", "email"): "the mailbox",
    ("m365_audit", "UserId"): "the acting user",
    ("m365_audit", "ClientIP"): "the client IP address",
    ("m365_audit", "ObjectId"): "the target object",
    ("m365_audit", "Parameters.Identity"): "the mailbox",
    ("m365_audit", "Parameters.ForwardingSmtpAddress"): "its forwarding SMTP address",
    ("m365_audit", "Parameters.ForwardingAddress"): "its forwarding address",
    ("m365_audit", "Parameters.ForwardTo"): "its forward-to address",
    ("m365_audit", "Parameters.RedirectTo"): "its redirect address",
    ("m365_audit", "Parameters.ForwardAsAttachmentTo"): "its forward-as-attachment address",
    ("entra_audit", "additionalDetails.value"): "an additional detail",
    ("entra_audit", "callerIpAddress"): "the caller's IP address",
    ("entra_audit", "initiatedBy.user.userPrincipalName"): "the acting user",
    ("entra_audit", "initiatedBy.user.ipAddress"): "the acting user's IP address",
    ("entra_audit", "targetResources.id"): "the target account's object id",
    ("entra_audit", "targetResources.userPrincipalName"): "the target account",
    ("gws_login", "actor.email"): "the account",
    ("gws_login", "ipAddress"): "the sign-in's IP address",
    ("entra_audit", "targetResources.modifiedProperties.displayName"): (
        "the properties set on the account"
    ),
    ("mail_signup", "recovery_email"): "the recovery address",
    ("mail_signup", "src_ip"): "the source IP address",
    ("m365_message_trace", "SenderAddress"): "the sender",
    ("proxy", "cs-host"): "the requested host",
    ("proxy", "c-uri"): "the requested host and port",
    ("firewall", "dst_hostname"): "the destination host name",
    ("firewall", "query"): "the name looked up",
    ("zeek_dns", "query"): "the name looked up",
}

# (source, field) -> distinct values of the field, counted ("10 or more distinct recipients")
COUNTED: dict[tuple[str, str], str] = {
    ("m365_message_trace", "RecipientAddress"): "recipients",
    ("gws_gmail", "email"): "receiving mailboxes",
}

# A value list (``%name%``) in a sentence, after the field: "... at a disposable email domain".
LISTS: dict[str, str] = {
    "disposable_email_domains": "at a disposable email domain",
    "disposable_email_services": "naming a disposable email service",
    "disposable_email_service_tunnels": "naming a disposable email service's host and port",
    "threat_intel_ips": "on the threat-intelligence list",
}

# Modifiers in a sentence: (positive, negative) before the values.
MODIFIERS: dict[str, tuple[str, str]] = {
    "": ("", "other than "),
    "contains": ("containing ", "not containing "),
    "startswith": ("starting with ", "not starting with "),
    "endswith": ("ending with ", "not ending with "),
    "gte": ("at least ", "below "),
    "gt": ("more than ", "at most "),
    "lte": ("at most ", "more than "),
    "lt": ("below ", "at least "),
    "cidr": ("in ", "outside "),
    "re": ("matching the pattern ", "not matching the pattern "),
}

# Fields that only some events of a source carry: (source, field) -> the (field, value) tests
# that name those events. A rule's events hold such a field when the rule tests the field
# itself or names one of these events; any other field of the source, every event holds.
CARRIED_BY: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("gws_admin", "parameters.USER_EMAIL"): tuple(
        ("event.name", name)
        for name in (
            "CREATE_USER",
            "ADD_RECOVERY_EMAIL",
            "CHANGE_RECOVERY_EMAIL",
            "DELETE_USER",
            "SUSPEND_USER",
            "RENAME_USER",
        )
    ),
    ("gws_admin", "parameters.NEW_VALUE"): (("event.name", "MAIL_ROUTING_DESTINATION_ADDED"),),
    ("gws_admin", "parameters.BULK_UPLOAD_TOTAL_USERS_NUMBER"): (
        ("event.name", "USERS_BULK_UPLOAD"),
    ),
    ("m365_audit", "Parameters.Identity"): (
        ("Operation", "Set-Mailbox"),
        ("Operation", "Set-InboxRule"),
    ),
}
