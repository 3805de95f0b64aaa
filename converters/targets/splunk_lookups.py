"""Stage 4 (Splunk): the app's lookups, the disposable-domain list and the customer's
threat-intelligence networks, as CSV rows with their transforms.conf stanzas."""

from __future__ import annotations

from converters.artifacts.splunk import Lookup, Stanza
from converters.backends.splunk import DISPOSABLE_LOOKUP, THREAT_INTEL_COLUMNS, THREAT_INTEL_LOOKUP
from converters.domains import DomainList
from converters.valuelists import ValueList


def disposable_lookup(domains: DomainList) -> Lookup:
    """Wildcard rows walk parent domains; allowlisted rows come first with no output, so they
    win (max_matches = 1 takes the first matching row)."""
    rows: list[tuple[str, str]] = []
    for domain in sorted(domains.allowlisted):
        rows += [(domain, ""), (f"*.{domain}", "")]
    for domain in sorted(domains.domains):
        rows += [(domain, domain), (f"*.{domain}", domain)]
    filename = f"{DISPOSABLE_LOOKUP}.csv"
    transform = Stanza(
        DISPOSABLE_LOOKUP,
        (
            ("filename", filename),
            ("match_type", "WILDCARD(domain)"),
            ("case_sensitive_match", "false"),
            ("max_matches", "1"),
        ),
    )
    return Lookup(
        DISPOSABLE_LOOKUP, filename, ("domain", "disposable_domain"), tuple(rows), transform
    )


def threat_intel_lookup(networks: ValueList) -> Lookup:
    """The customer's threat-intelligence networks as a CIDR lookup (the searches test the
    creating session's address against it after the index search)."""
    rows = []
    for network, details in zip(
        networks.values, networks.details or [()] * len(networks.values), strict=True
    ):
        source = details[0] if details and details[0] else "listed"  # the search tests source=*
        confidence = details[1] if len(details) > 1 else ""
        rows.append((network, source, confidence))
    filename = f"{THREAT_INTEL_LOOKUP}.csv"
    transform = Stanza(
        THREAT_INTEL_LOOKUP,
        (("filename", filename), ("match_type", "CIDR(network)"), ("max_matches", "1")),
    )
    return Lookup(
        THREAT_INTEL_LOOKUP,
        filename,
        ("network", *THREAT_INTEL_COLUMNS),
        tuple(rows),
        transform,
    )
