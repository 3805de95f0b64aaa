"""Next-generation firewall log, Sigma ``category: firewall``: which hosts clients reach
through the firewall, by the host names its inspection logged.

Raw format: Fortinet FortiGate (FortiOS) logs, the ``key=value`` syslog form
(``date=... time=... logid="..." type="utm" subtype="webfilter" ... hostname="..."``),
optionally behind a syslog header. Where FortiOS writes the host name (captured records in
Elastic's fortinet_fortigate pipeline tests, below, and Fortinet's log reference):

- ``type=utm`` logs of the security profiles: web filter (``subtype=webfilter``: ``hostname``
  and ``url``, ``action`` blocked or passthrough), application control (``app-ctrl``), SSL
  inspection (``ssl``, its ssl-negotiation events with ``sni`` and ``hostname``), IPS and
  DLP: ``hostname``. The DNS filter (``subtype=dns``, dns-query and dns-response events):
  ``qname``, the name looked up.
- ``type=traffic`` forward logs carry no host name in any captured record (only ``dstip``,
  ``dstport`` and counters such as ``countweb=1`` that point at the UTM log of the same
  ``sessionid``); FortiOS 7.6 adds HTTP-transaction traffic logs with ``hostname``.

Rows (converters.engine.netlogs.fortigate_fields) carry the Sigma firewall names for every
type but ``event``: ``dst_hostname`` (``hostname``), ``query`` (``qname``), ``src_ip``,
``dst_ip``, ``dst_port``, ``action``, ``username``, ``subtype``, ``logid``.

Where each target keeps them:

- Elastic, ``fortinet_fortigate`` integration, data stream ``log``: the pipeline splits the
  pairs into ``fortinet.firewall.*``, then per type: the utm sub-pipeline renames
  ``hostname`` to ``url.domain``, ``url`` to ``url.path`` and ``qname`` to
  ``dns.question.name``; both sub-pipelines rename srcip, dstip, dstport to ``source.ip``,
  ``destination.ip``, ``destination.port``; ``fortinet.firewall.action`` keeps the raw
  action (``event.action`` is the action for traffic but the eventtype for utm logs);
  ``logid`` becomes ``event.code``. A 7.6 traffic log's ``hostname`` stays in
  ``fortinet.firewall.hostname`` (the traffic sub-pipeline has no rule for it), which the
  rules do not read: in Elastic only UTM logs name the host.
- Splunk, Fortinet FortiGate Add-on for Splunk (Splunkbase 2846): sourcetypes
  ``fortigate_traffic`` and ``fortigate_utm`` (``fgt_traffic`` / ``fgt_utm`` before add-on
  1.6; Splunk Connect for Syslog's FortiOS page). The key=value pairs are searchable under
  their own names (``hostname``, ``qname``, ``action``, ``subtype``, ``logid``); the CIM
  names ``src_ip``, ``dest_ip``, ``dest_port``, ``user`` are those public searches over
  fortigate_utm use. The add-on's props.conf was not available: the Splunk names are
  inferred.
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

_FORTIGATE = "elastic/integrations packages/fortinet_fortigate/data_stream/log"

FIREWALL = DataSource(
    name="firewall",  # the source name converters.engine.formats gives FortiGate rows
    title="Firewall log (FortiGate traffic and security-profile logs)",
    product=None,
    service=None,
    category="firewall",
    raw_format="FortiGate log, key=value syslog (FortiOS)",
    splunk_macro="dac_firewall",
    # The add-on's sourcetypes, and those it used before 1.6; set your index here.
    splunk_macro_definition=(
        '(sourcetype="fortigate_traffic" OR sourcetype="fortigate_utm" '
        'OR sourcetype="fgt_traffic" OR sourcetype="fgt_utm")'
    ),
    splunk_sourcetype="fortigate_utm",
    elastic_indices=("logs-fortinet_fortigate.log-*",),
    elastic_dataset="fortinet_fortigate.log",
    elastic_integration="fortinet_fortigate",
    elastic_integration_version="^1.0.0",
    fields=(
        Field("src_ip", "src_ip", "source.ip", description="The client inside."),
        Field("src_port", "src_port", "source.port"),
        Field("dst_ip", "dest_ip", "destination.ip", description="The server's address."),
        Field("dst_port", "dest_port", "destination.port"),
        Field(
            "dst_hostname",
            "hostname",
            "url.domain",
            description="The host name a security profile saw (web filter, application "
            "control, SSL inspection).",
        ),
        Field(
            "query",
            "qname",
            "dns.question.name",
            description="The name a client looked up (DNS filter).",
        ),
        Field("action", "action", "fortinet.firewall.action", description="FortiOS action."),
        Field("subtype", "subtype", "fortinet.firewall.subtype", description="Log subtype."),
        Field("logid", "logid", "event.code", description="FortiOS log id."),
        Field("username", "user", "source.user.name", description="Firewall-authenticated user."),
    ),
    entities=(
        ("Client", "src_ip"),
        ("Host", "dst_hostname"),
        ("Name looked up", "query"),
        ("User", "username"),
    ),
    shapes=(
        Shape(
            "syslog",
            "FortiGate key=value lines, bare or behind a syslog or RFC 5424 header: traffic, "
            "web filter, application control, SSL and DNS filter logs",
            (
                Capture(
                    f"{_FORTIGATE}/_dev/test/pipeline/test-fortinet.log",
                    "utm/webfilter with hostname and url (path), utm/dns with qname, qtype and "
                    "ipaddr, utm/app-ctrl with hostname; traffic/forward without hostname",
                    "099acb7cbfe337380573531f924b07e83f433070",
                ),
                Capture(
                    f"{_FORTIGATE}/_dev/test/pipeline/test-fortinet-7-4.log",
                    "FortiOS 7.x lines without a priority, one behind an RFC 5424 header; a "
                    "traffic line and the webfilter line of the same sessionid",
                    "3352a7d0ed0c2ef4ed55e7599852f08f89e3bb3c",
                ),
            ),
        ),
    ),
    elastic_fields=(
        ElasticField("event.dataset", "keyword", ("fortinet_fortigate.log",)),
        ElasticField("url.domain", "keyword"),
        ElasticField("dns.question.name", "keyword"),
        ElasticField("source.ip", "ip"),
        ElasticField("source.port", "long"),
        ElasticField("destination.ip", "ip"),
        ElasticField("destination.port", "long"),
        ElasticField("fortinet.firewall.action", "keyword"),
        ElasticField("fortinet.firewall.subtype", "keyword"),
        ElasticField("event.code", "keyword"),
        ElasticField("source.user.name", "keyword"),
    ),
    elastic_evidence=TargetEvidence(
        (
            Capture(
                f"{_FORTIGATE}/elasticsearch/ingest_pipeline/utm.yml",
                "hostname -> url.domain, url -> url.path, qname -> dns.question.name, "
                "srcip/dstip/dstport -> source.ip/destination.ip/destination.port",
                "026b72d9c3804fc1fd51c95da9e0e53b18f28c70",
            ),
            Capture(
                f"{_FORTIGATE}/_dev/test/pipeline/test-fortinet.log-expected.json",
                "webfilter: url.domain, fortinet.firewall.action blocked, event.code the "
                "logid; dns: dns.question.name; event.action the eventtype for utm logs",
                "009be490237508c25d5aeb8f7b152e9e9060967c",
            ),
        ),
        verified=True,
    ),
    splunk_evidence=TargetEvidence(
        (
            Capture(
                "splunk/splunk-connect-for-syslog docs/sources/vendor/Fortinet/fortios.md",
                "sourcetypes fgt_traffic, fgt_utm, fgt_event; fortigate_* from add-on 1.6",
                "064dd1b7ff5ff7880a74f49308da4a74332f9d20",
            ),
        ),
        verified=False,
    ),
    delivery_lag_minutes=10,
    delivery_lag_reference=Capture(
        "no vendor figure",
        "FortiGate sends syslog as it logs; 10 minutes allow for a log collector's batching",
    ),
)
