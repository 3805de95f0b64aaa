"""Stage 4 (Elastic): the ingest-time disposable-domain enrichment that EQL rules read.

EQL cannot hold 10,000 domains, so the test happens once per event at ingest: a script lists
each address field's domain and its parent domains, an enrich processor (match policy, one
terms lookup per field) finds the listed one, and the result lands in
``dac.disposable_email.<key>``. Allowlisted domains stop the parent walk, as in every target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from converters.backends.eql import ENRICHMENT_ROOT
from converters.domains import ADDRESS_DOMAIN_PATTERN, DomainList
from converters.sources import address_fields

INDEX = "dac-disposable-email-domains"
POLICY = "dac-disposable-email-domains"
PIPELINE = "dac-disposable-email"
_CANDIDATES = "dac._disposable_candidates"
_MATCHES = "dac._disposable_matches"

# Painless: for each configured field, domain candidates (the domain and its parents with at
# least two labels), stopping at an allowlisted one.
_CANDIDATES_SCRIPT = """
def allow = new HashSet(params.allowlist);
Map out = new HashMap();
for (pair in params.fields) {
  def value = ctx;
  for (part in pair[0].splitOnToken('.')) {
    if (value instanceof Map && value.containsKey(part)) { value = value[part]; }
    else if (value instanceof List) {
      List found = new ArrayList();
      for (item in value) {
        if (item instanceof Map && item[part] != null) {
          if (item[part] instanceof List) { found.addAll(item[part]); }
          else { found.add(item[part]); }
        }
      }
      value = found.isEmpty() ? null : found;
      if (value == null) { break; }
    }
    else { value = null; break; }
  }
  if (value == null) { continue; }
  List values = value instanceof List ? value : [value];
  List candidates = new ArrayList();
  for (v in values) {
    if (!(v instanceof String)) { continue; }
    def m = /ADDRESS_PATTERN/.matcher(v);
    while (m.find()) {
      String[] labels = m.group(1).toLowerCase().splitOnToken('.');
      List parts = new ArrayList();
      for (l in labels) { if (l.length() > 0) { parts.add(l); } }
      for (int i = 0; i < parts.size() - 1; i++) {
        String candidate = String.join('.', parts.subList(i, parts.size()));
        if (allow.contains(candidate)) { break; }
        candidates.add(candidate);
      }
    }
  }
  if (!candidates.isEmpty()) { out.put(pair[1], candidates); }
}
if (!out.isEmpty()) {
  if (ctx.dac == null) { ctx.dac = new HashMap(); }
  ctx.dac._disposable_candidates = out;
}
""".strip()

_RESULT_SCRIPT = """
if (ctx.dac != null && ctx.dac._disposable_matches != null) {
  Map result = new HashMap();
  for (entry in ctx.dac._disposable_matches.entrySet()) {
    def match = entry.getValue();
    if (match instanceof Map && match.domain != null) { result.put(entry.getKey(), match.domain); }
  }
  if (!result.isEmpty()) { ctx.dac.disposable_email = result; }
}
if (ctx.dac != null) {
  ctx.dac.remove('_disposable_candidates');
  ctx.dac.remove('_disposable_matches');
}
""".strip()


@dataclass(frozen=True)
class Enrichment:
    documents: tuple[dict[str, Any], ...]  # bulk body lines, in order
    policy: dict[str, Any]
    pipeline: dict[str, Any]
    fields: tuple[tuple[str, str], ...]  # (Elastic field, enrichment key)


def make_enrichment(domains: DomainList) -> Enrichment:
    fields = tuple(
        sorted({(f.elastic, f.address_key) for _, f in address_fields() if f.address_key})
    )
    documents: list[dict[str, Any]] = []
    for domain in sorted(domains.domains):
        documents += [{"index": {"_index": INDEX, "_id": domain}}, {"domain": domain}]
    policy = {"match": {"indices": INDEX, "match_field": "domain", "enrich_fields": ["domain"]}}
    processors: list[dict[str, Any]] = [
        {
            "script": {
                "tag": "dac_disposable_candidates",
                "lang": "painless",
                "source": _CANDIDATES_SCRIPT.replace(
                    "ADDRESS_PATTERN", ADDRESS_DOMAIN_PATTERN.replace("/", "\\/")
                ),
                "params": {
                    # Pairs, not a map: one ECS field (email.from.address) can feed the
                    # keys of several data sources' rules.
                    "fields": [list(pair) for pair in fields],
                    "allowlist": sorted(domains.allowlisted),
                },
            }
        }
    ]
    for _, key in fields:
        processors.append(
            {
                "enrich": {
                    "tag": f"dac_disposable_{key}",
                    "policy_name": POLICY,
                    "field": f"{_CANDIDATES}.{key}",
                    "target_field": f"{_MATCHES}.{key}",
                    "max_matches": 1,
                    "ignore_missing": True,
                }
            }
        )
    processors.append(
        {"script": {"tag": "dac_disposable_result", "lang": "painless", "source": _RESULT_SCRIPT}}
    )
    pipeline = {
        "description": (
            f"dac-t1585: sets {ENRICHMENT_ROOT}.<field key> to the listed disposable domain of "
            "an address field (parent domains walked, allowlist honoured)."
        ),
        "processors": processors,
    }
    return Enrichment(tuple(documents), policy, pipeline, fields)
