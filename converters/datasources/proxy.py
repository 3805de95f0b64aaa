"""Web proxy access log, Sigma ``category: proxy``: which hosts clients reach through the proxy.

Raw format: Squid's native access.log (``logformat squid``: time elapsed remotehost
code/status bytes method URL rfc931 peerstatus/peerhost type). The rows carry the Sigma proxy
names of the W3C extended log format (Sigma taxonomy, ``category: proxy``): ``c-uri`` is the
URL as logged, ``cs-host`` the host taken from it (the part before ``:port`` for a CONNECT
tunnel, whose URL is ``host:port``). Squid logs no Host header; for the requests a forward
proxy sees, the URL's host is the host asked for.

What was checked, and where:

- Sigma taxonomy (SigmaHQ/sigma-specification, Taxonomy_specification.md, ``category:
  proxy``): ``c-uri``, ``cs-host``, ``cs-method``, ``sc-status`` (W3C names). The client
  address is ``c-ip`` here, the W3C name beside the others (the taxonomy also lists
  ``src_ip``); the user is W3C ``cs-username``.
- Elastic, ``squid`` integration (elastic/integrations ``packages/squid``, data stream
  ``log``, GA since 1.0.0; the ingest pipeline was rewritten in 0.20.0): a grok of the native
  format, then ``source.ip`` (remotehost), ``source.user.name`` (rfc931), ``http.request.method``,
  ``url.original`` and, through ``uri_parts``, ``url.domain`` - but ``uri_parts`` runs only
  when the method is not CONNECT: a CONNECT line keeps ``host:port`` in ``url.original`` and
  has no ``url.domain`` (seen in the pipeline and its test expectations). The HTTP status
  goes to ``squid.status_code``, not ``http.response.status_code``; ``event.dataset`` is
  ``squid.log``. A rule that must see HTTPS therefore also tests ``c-uri`` of CONNECT
  requests (the rules do; converters.engine.ecs leaves ``url.domain`` out of CONNECT
  documents as the integration does).
- Splunk, Splunk Add-on for Squid Proxy (``Splunk_TA_squid``, Splunkbase 2965, 2.1.0,
  archived): sourcetypes ``squid:access`` (native format) and ``squid:access:recommended``
  (the add-on's own logformat), seen in third-party inventories and searches; ``action`` is
  looked up from the result code (``vendor_action``). The field names below are the CIM Web
  data model's (``url``, ``dest``, ``src``, ``http_method``, ``status``, ``user``, CIM
  manual); that the add-on fills exactly these from the native format, and that ``dest`` is
  the URL's host rather than the peer address, is inferred: its props.conf was not available
  to read. The CONNECT test reads ``url``, the raw URL field, which does not depend on that.
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

PROXY = DataSource(
    name="proxy",  # the source name converters.engine.formats gives Squid rows
    title="Web proxy access log (Squid access.log)",
    product=None,
    service=None,
    category="proxy",
    raw_format="Squid access.log, native format (logformat squid)",
    splunk_macro="dac_proxy",
    # Both sourcetypes of the Squid add-on; add your other proxies' sourcetypes (CIM Web).
    splunk_macro_definition='(sourcetype="squid:access" OR sourcetype="squid:access:recommended")',
    splunk_sourcetype="squid:access",
    elastic_indices=("logs-squid.log-*",),
    elastic_dataset="squid.log",
    elastic_integration="squid",
    elastic_integration_version="^1.0.0",
    fields=(
        Field(
            "c-uri",
            "url",
            "url.original",
            description="The URL as the proxy logged it; host:port for a CONNECT tunnel.",
        ),
        Field(
            "cs-host",
            "dest",
            "url.domain",
            description="The host asked for, from the URL (Elastic: not set for CONNECT).",
        ),
        Field("cs-method", "http_method", "http.request.method"),
        Field("sc-status", "status", "squid.status_code", description="HTTP status sent back."),
        Field("c-ip", "src", "source.ip", description="The client that made the request."),
        Field("cs-username", "user", "source.user.name", description="Proxy user, if any."),
    ),
    # The URL too: for a CONNECT tunnel Elastic has the host only there.
    entities=(
        ("Client", "c-ip"),
        ("Host requested", "cs-host"),
        ("User", "cs-username"),
        ("URL", "c-uri"),
    ),
    shapes=(
        Shape(
            "native",
            "Squid access.log, native format (logformat squid), CONNECT lines with host:port",
            (
                Capture(
                    "elastic/integrations packages/squid/data_stream/log/_dev/test/pipeline/"
                    "test-access.log",
                    "native lines: GET with an absolute URL, CONNECT host:443, TCP_DENIED/407",
                    "7c8c614aeda36586dc39245fe058eb4d749902c9",
                ),
                Capture(
                    "squid-cache/squid src/log/FormatSquidNative.cc",
                    "the native format's columns",
                    "037048ee6a8bdc4137fa104e6ca837c2a253806b",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("squid.log",)),
        ElasticField("url.original", "wildcard"),
        ElasticField("url.domain", "keyword"),
        ElasticField("http.request.method", "keyword"),
        ElasticField("squid.status_code", "long"),
        ElasticField("source.ip", "ip"),
        ElasticField("source.user.name", "keyword"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                "elastic/integrations packages/squid/data_stream/log/_dev/test/pipeline/"
                "test-access.log-expected.json",
                "a CONNECT line keeps host:port in url.original and has no url.domain; GET: "
                "url.domain; squid.status_code; source.ip; source.user.name",
                "2726bec12436dd010b3eb8003c7ae1dcf42caf8c",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "https://help.splunk.com/data-management/common-information-model/6.0/"
                "data-models/web",
                "CIM Web fields url, dest, src, http_method, status, user (the Squid add-on's "
                "own extraction was not available)",
            ),
        ),
        verified=False,
    ),
    delivery_lag_minutes=10,
    delivery_lag_reference=Capture(
        "no vendor figure",
        "written as requests finish; 10 minutes allow for forwarding",
    ),
)
