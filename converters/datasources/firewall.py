"""Next-generation firewall traffic log, Sigma ``category: firewall``: sessions through the
firewall, with the destination's host name where the firewall saw one.

Raw format: Fortinet FortiGate (FortiOS) traffic log, the ``key=value`` syslog form
(``date=... time=... logid="0000000013" type="traffic" subtype="forward" ... srcip=...
dstip=... dstport=... action="close" ... hostname="..."``), optionally behind a syslog header.
Rows of ``type=traffic`` carry the Sigma firewall names below; the other FortiGate log types
(utm, event) are read and counted under ``fortigate_<type>``, which no rule reads yet.

What was checked, and where:

- Sigma taxonomy (SigmaHQ/sigma-specification, ``category: firewall``): ``src_ip``,
  ``src_port``, ``dst_ip``, ``dst_port``, ``username``. ``dst_hostname`` (the host name)
  and ``action`` are this package's, in the same style.
- FortiOS Log Message Reference (docs.fortinet.com): traffic log fields ``srcip``,
  ``srcport``, ``dstip``, ``dstport``, ``action`` (deny, accept, start, close, timeout,
  client-rst, server-rst, ...), ``user``, ``unauthuser``, ``sessionid``, ``eventtime``, ``tz``;
  ``hostname`` is "the host name of a URL" in web-filter and application-control logs. That
  forward traffic logs carry ``hostname`` when a security profile inspected the session is
  taken from the task brief and the field's appearance across FortiOS logs, not from a traffic
  sample: a session the firewall only routed has no host name (the rule cannot see it).
- Elastic, ``fortinet_fortigate`` integration (elastic/integrations, data stream ``log``,
  1.x): the pipeline splits the key=value pairs into ``fortinet.firewall.*`` and drops "N/A"
  values; for ``type=traffic`` it renames srcip/dstip to ``source.ip``/``destination.ip``,
  converts srcport/dstport to ``source.port``/``destination.port``, copies action to
  ``event.action``, and unauthuser (else user) to ``source.user.name``. It leaves
  ``hostname`` where it was, ``fortinet.firewall.hostname`` (only the utm pipeline renames it
  to ``url.domain``); that field is not in the integration's field list, so it is indexed by
  dynamic mapping as a keyword (inferred). ``event.dataset`` is ``fortinet_fortigate.log``.
- Splunk, Fortinet FortiGate Add-on for Splunk (Splunkbase 2846): sourcetype
  ``fortigate_traffic`` (``fgt_traffic`` before add-on 1.6), seen in public searches and SC4S
  configurations. The CIM Network_Traffic names (``src_ip``, ``src_port``, ``dest_ip``,
  ``dest_port``, ``action``, ``user``; CIM manual) are assumed to be set by the add-on, and
  ``hostname`` to stay as extracted from the key=value pairs: inferred, the add-on's
  props.conf was not read. CIM ``action`` holds allowed/blocked/teardown, not FortiOS's
  values, so a rule that tests ``action`` would need a value map for Splunk.
"""

from __future__ import annotations

from converters.datasources.model import DataSource, Field

FIREWALL = DataSource(
    name="firewall",  # the source name converters.engine.formats gives FortiGate traffic rows
    title="Firewall traffic log (FortiGate)",
    product=None,
    service=None,
    category="firewall",
    raw_format="FortiGate traffic log, key=value syslog (FortiOS)",
    splunk_macro="dac_firewall",
    # The add-on's sourcetype, and the one it used before 1.6; set your index here.
    splunk_macro_definition='(sourcetype="fortigate_traffic" OR sourcetype="fgt_traffic")',
    splunk_sourcetype="fortigate_traffic",
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
            "fortinet.firewall.hostname",
            description="The host name the firewall saw (HTTP Host or TLS SNI), if any.",
        ),
        Field("action", "action", "event.action", description="FortiOS session status."),
        Field("username", "user", "source.user.name", description="Firewall-authenticated user."),
    ),
    entities=(("Client", "src_ip"), ("Host", "dst_hostname"), ("User", "username")),
)
