"""The disposable email domain list and the one matching rule every target implements.

Source: the pinned ``disposable-email-domains`` package, plus ``lists/disposable_extra.txt``,
minus ``lists/disposable_allowlist.txt``. An address matches when its domain, or any parent
domain of it, is listed (``x@a.mailinator.com`` matches ``mailinator.com``); case does not
matter; ``mailinator.com.corp.example`` does not match.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

import disposable_email_domains

from converters.errors import DacError, Problem

ALLOWLIST = Path("lists/disposable_allowlist.txt")
EXTRA = Path("lists/disposable_extra.txt")
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
# The domain of each address in a field. The local part must start the value or follow a
# separator (space ; , : [ <), so a quoted display name such as
# '"x@mailinator.com" [SMTP:y@partner.example]' is not read as an address. Written once, in a
# syntax Python and PCRE (Splunk rex) read alike; the Elastic ingest script follows the same
# rule through the character sets below (tests/test_enrichment_pipeline.py holds them equal).
ADDRESS_DOMAIN_PATTERN = r'(?<![^\s;,:\[<])[^\s@"<>\[\];,:]+@([A-Za-z0-9.-]+)'
# ASCII: \s is then the six characters it is in Java and PCRE, not Unicode's spaces too.
_ADDRESS_DOMAIN_RE = re.compile(ADDRESS_DOMAIN_PATTERN, re.ASCII)
# The same rule as character sets, for code that reads addresses without a regex (the Elastic
# ingest script: Painless limits regexes): an address starts the value or follows one of the
# separators, its local part holds none of the excluded characters and is followed by @, its
# domain is the longest run of domain characters after the @ (at least one).
_WHITESPACE = " \t\n\x0b\f\r"  # \s in Java, PCRE and ASCII Python
ADDRESS_SEPARATORS = _WHITESPACE + ";,:[<"
LOCAL_PART_EXCLUDED = _WHITESPACE + '@"<>[];,:'
DOMAIN_CHARACTERS = string.ascii_letters + string.digits + ".-"


def address_domains(value: str) -> list[str]:
    """The domain of each address in ``value``, in order (as written: case kept)."""
    return list(_ADDRESS_DOMAIN_RE.findall(value))


@dataclass(frozen=True)
class DomainList:
    domains: frozenset[str]
    allowlisted: frozenset[str]
    package_version: str

    def match_domain(self, domain: str) -> str | None:
        """The listed domain that ``domain`` is, or is a subdomain of; None otherwise."""
        labels = domain.strip().strip(".").lower().split(".")
        for i in range(len(labels) - 1):
            candidate = ".".join(labels[i:])
            if candidate in self.allowlisted:
                return None
            if candidate in self.domains:
                return candidate
        return None

    def match_addresses(self, value: object) -> str | None:
        """The first listed domain among the addresses in ``value`` (a string or a list of
        strings; forwarding parameters may hold several addresses), or None."""
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            for domain in address_domains(item):
                found = self.match_domain(domain)
                if found:
                    return found
        return None


def _read_list(path: Path) -> tuple[set[str], list[Problem]]:
    found: set[str] = set()
    problems: list[Problem] = []
    if not path.exists():
        return found, problems
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lower()
        if not line:
            continue
        if not _DOMAIN_RE.match(line):
            problems.append(Problem(path, f"not a domain name: {raw.strip()!r}", line=number))
        else:
            found.add(line)
    return found, problems


def load_domains(root: Path) -> DomainList:
    """Build the effective list; ``root`` is the repository (where ``lists/`` lives)."""
    extra, problems = _read_list(root / EXTRA)
    allow, allow_problems = _read_list(root / ALLOWLIST)
    problems += allow_problems
    if problems:
        raise DacError(problems)
    base = {d.lower() for d in disposable_email_domains.blocklist}
    domains = frozenset((base | extra) - allow)
    from importlib.metadata import version

    return DomainList(domains, frozenset(allow), version("disposable-email-domains"))
