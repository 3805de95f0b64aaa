"""Zeek DNS log (dns.log): the network side of the playbook, lookups of disposable services."""

from __future__ import annotations

from converters.datasources.model import DataSource, Field

ZEEK_DNS = DataSource(
    name="zeek_dns",  # the name the hunt's Zeek reader gives its rows
    title="Zeek DNS log (dns.log)",
    product="zeek",
    service="dns",
    raw_format="Zeek dns.log (JSON or TSV)",
    splunk_macro="dac_zeek_dns",
    # The Zeek (Bro) add-on's JSON sourcetype, and Corelight's; set your index here.
    splunk_macro_definition='(sourcetype="bro:dns:json" OR sourcetype="corelight_dns")',
    splunk_sourcetype="bro:dns:json",
    elastic_indices=("logs-zeek.dns-*",),
    elastic_dataset="zeek.dns",
    elastic_integration="zeek",
    elastic_integration_version="^3.0.0",
    fields=(
        Field("query", "query", "dns.question.name", description="The name looked up."),
        Field("qtype_name", "qtype_name", "dns.question.type"),
        Field("rcode_name", "rcode_name", "dns.response_code"),
        Field("id.orig_h", "id.orig_h", "source.ip", description="The client that asked."),
        Field("id.resp_h", "id.resp_h", "destination.ip", description="The resolver."),
    ),
    entities=(("Client", "id.orig_h"), ("Queried name", "query")),
)
