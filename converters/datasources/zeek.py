"""Zeek DNS log (dns.log): the network side of the playbook, lookups of disposable services."""

from __future__ import annotations

from converters.datasources.model import (
    Capture,
    DataSource,
    ElasticField,
    Field,
    Shape,
    TargetEvidence,
)

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
    shapes=(
        Shape(
            "json",
            "Zeek dns.log as JSON, one object per line (dotted keys such as id.orig_h)",
            (
                Capture(
                    "elastic/integrations packages/zeek/data_stream/dns/_dev/test/pipeline/"
                    "test-dns.log",
                    "ts (epoch), uid, id.orig_h, id.resp_h, query, qtype_name, rcode_name, "
                    "answers, TTLs; query-only records without answers",
                    "6864493fddec379a31abe980e54d4dc64bbfd0c1",
                ),
            ),
        ),
        Shape(
            "tsv",
            "Zeek's default TSV log with its #separator and #fields headers",
            (
                Capture(
                    "https://docs.zeek.org/en/current/logs/dns.html",
                    "the dns.log columns and Zeek's tab-separated format",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("zeek.dns",)),
        ElasticField("dns.question.name", "keyword"),
        ElasticField("dns.question.type", "keyword"),
        ElasticField("dns.response_code", "keyword"),
        ElasticField("source.ip", "ip"),
        ElasticField("destination.ip", "ip"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/zeek/data_stream/dns/_dev/test/pipeline/"
                "test-dns.log-expected.json",
                "dns.question.name (only for names under a public suffix: a .local name keeps "
                "only zeek.dns.query), dns.question.type, dns.response_code, source.ip, "
                "destination.ip",
                "031b6dc58e25c0d8c9d4042ce415317b1d923158",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "InfinityWatch/TA-Zeek default/props.conf",
                "KV_MODE=json over zeek:*:json: query, qtype_name, rcode_name, id.orig_h, "
                "id.resp_h as fields",
                "01eeab41f0ecd60db43de22c4fd89d1a1baeaa94",
            ),
        ),
        verified=True,
    ),
    delivery_lag_minutes=10,
    delivery_lag_reference=Capture(
        "no vendor figure",
        "written as the traffic is seen; 10 minutes allow for log rotation and forwarding",
    ),
)
