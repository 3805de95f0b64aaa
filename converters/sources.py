"""Data sources: one place that says, per Sigma logsource, how each target stores the data.

A rule field that is not listed for a source is an error (no silent non-matching query).
Field names on the Sigma side follow the raw log format (Reports API activity, UAL record),
flattened with dots; event parameters become ``parameters.<NAME>`` / ``Parameters.<Name>``.
"""

from __future__ import annotations

from converters.datasources.entra import ENTRA_AUDIT
from converters.datasources.firewall import FIREWALL
from converters.datasources.gws import GWS_ADMIN
from converters.datasources.gws_gmail import GWS_GMAIL
from converters.datasources.gws_login import GWS_LOGIN
from converters.datasources.m365 import M365_AUDIT
from converters.datasources.message_trace import M365_MESSAGE_TRACE
from converters.datasources.model import ContainmentCommand, DataSource, Field
from converters.datasources.proxy import PROXY
from converters.datasources.signup import MAIL_SIGNUP
from converters.datasources.zeek import ZEEK_DNS

# Every data source, in the order rules and outputs list them. A new source is a module in
# converters/datasources/ and one entry here.
SOURCES: tuple[DataSource, ...] = (
    GWS_ADMIN,
    M365_AUDIT,
    M365_MESSAGE_TRACE,
    ZEEK_DNS,
    PROXY,
    FIREWALL,
    ENTRA_AUDIT,
    MAIL_SIGNUP,
    GWS_GMAIL,
    GWS_LOGIN,
)


def find_source(
    product: str | None, service: str | None, category: str | None = None
) -> DataSource | None:
    for source in SOURCES:
        if source.serves(product, service, category):
            return source
    return None


def source_by_name(name: str) -> DataSource:
    for source in SOURCES:
        if source.name == name:
            return source
    raise KeyError(name)


__all__ = [
    "ENTRA_AUDIT",
    "GWS_ADMIN",
    "GWS_GMAIL",
    "GWS_LOGIN",
    "M365_AUDIT",
    "M365_MESSAGE_TRACE",
    "SOURCES",
    "ContainmentCommand",
    "DataSource",
    "Field",
    "address_fields",
    "find_source",
    "source_by_name",
]


def address_fields() -> list[tuple[DataSource, Field]]:
    """Every address field that the disposable-domain enrichment must inspect."""
    return [(s, f) for s in SOURCES for f in s.fields if f.address_key]
