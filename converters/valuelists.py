"""Named value lists for tuning (``lists/<name>.txt``), used in rules and filters as
``field|expand: '%<name>%'``: the provisioning accounts whose planned onboarding is expected,
the organisation's own IP ranges. Each target gets the values written into its query."""

from __future__ import annotations

import csv as _csv
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from converters.errors import DacError, Problem

Kind = Literal["identity", "cidr", "domain", "authority"]
# name -> (file under the repository, what its lines are)
KNOWN: dict[str, tuple[str, Kind]] = {
    "provisioning_accounts": ("lists/provisioning_accounts.txt", "identity"),
    "corporate_ip_ranges": ("lists/corporate_ip_ranges.txt", "cidr"),
    # The customer's threat intelligence: CSV with network,source,confidence (first column used).
    "threat_intel_ips": ("lists/threat_intel_ips.csv", "cidr"),
    # Web front ends of disposable mail services; a domain matches itself and its subdomains.
    "disposable_email_services": ("lists/disposable_email_services.txt", "domain"),
    # The same services as a proxy's CONNECT target, host:port (the Elastic squid integration
    # keeps a tunnel's host only there): the domain or a subdomain, then any port.
    "disposable_email_service_tunnels": ("lists/disposable_email_services.txt", "authority"),
}


@dataclass(frozen=True)
class ValueList:
    name: str
    kind: Kind
    values: tuple[str, ...]
    # A CSV list's other columns per value (threat intel: source, confidence), for lookups.
    details: tuple[tuple[str, ...], ...] = ()


def _parse_line(raw: str, kind: Kind, csv: bool) -> str:
    text = raw.split("#", 1)[0]
    value = (text.split(",", 1)[0] if csv else text).strip()
    if not value or kind in ("identity", "domain", "authority"):
        return value.lower()
    return str(ipaddress.ip_network(value, strict=False))


def load_value_lists(root: Path, files: Mapping[str, Path] | None = None) -> dict[str, ValueList]:
    """Every known list from ``root`` (the repository), or from ``files`` for the lists named
    there (``dac hunt --threat-intel FILE``); a missing file is an empty list."""
    lists: dict[str, ValueList] = {}
    problems: list[Problem] = []
    for name, (relative, kind) in KNOWN.items():
        path = (files or {}).get(name) or root / relative
        values: list[str] = []
        details: list[tuple[str, ...]] = []
        if path.exists():
            csv = path.suffix == ".csv"
            for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if csv and number == 1:
                    if raw.strip().lower().split(",")[:1] != ["network"]:
                        problems.append(
                            Problem(path, "expected the header network,source,confidence", line=1)
                        )
                    continue
                try:
                    value = _parse_line(raw, kind, csv)
                except ValueError:
                    reason = f"not an IP network: {raw.strip()!r}"
                    problems.append(Problem(path, reason, line=number))
                    continue
                if value and any(c.isspace() for c in value):
                    problems.append(Problem(path, f"not one value: {raw.strip()!r}", line=number))
                elif value and value not in values:
                    values.append(value)
                    if csv:
                        row = next(_csv.reader([raw.split("#", 1)[0]]), [])
                        details.append(tuple(c.strip() for c in row[1:3]))
        lists[name] = ValueList(name, kind, tuple(values), tuple(details))
    if problems:
        raise DacError(problems)
    return lists
