"""Stage 4 (Elastic): the ingest-time disposable-domain enrichment that EQL rules read.

EQL cannot hold 10,000 domains, so the test happens once per event at ingest: a script lists
each address field's domain and its parent domains, an enrich processor (match policy, one
terms lookup per field) finds the listed one, and the result lands in
``dac.disposable_email.<key>``. Allowlisted domains stop the parent walk, as in every target.

The pipeline runs from an integration's ``@custom`` pipeline, inside the integration's own
ingest, so it must never turn a document into a pipeline error: each processor's failure is
recorded in ``dac.disposable_email.error`` and the document goes on (a processor-level
``on_failure``; the pipeline's own ``on_failure`` catches anything else), and the temporary
fields are removed whatever happened. Its scripts use no regex: Painless runs regexes only
under ``script.painless.regex.enabled: limited`` (the default), which aborts a match that
takes more steps than a factor of the input's length; the addresses are read with string
methods instead, by the same rule as ``converters.domains.ADDRESS_DOMAIN_PATTERN`` (its
character sets, passed as parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from converters.backends.eql import ENRICHMENT_ROOT
from converters.domains import (
    ADDRESS_SEPARATORS,
    DOMAIN_CHARACTERS,
    LOCAL_PART_EXCLUDED,
    DomainList,
)
from converters.sources import address_fields

INDEX = "dac-disposable-email-domains"
POLICY = "dac-disposable-email-domains"
PIPELINE = "dac-disposable-email"
_CANDIDATES = "dac._disposable_candidates"
_MATCHES = "dac._disposable_matches"
ERROR_FIELD = f"{ENRICHMENT_ROOT}.error"

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
    String s = (String) v;
    int n = s.length();
    int i = 0;
    while (i < n) {
      if (i > 0 && params.separators.indexOf(s.substring(i - 1, i)) < 0) { i++; continue; }
      int at = i;
      while (at < n && params.local_excluded.indexOf(s.substring(at, at + 1)) < 0) { at++; }
      if (at == i || !s.startsWith('@', at)) { i++; continue; }
      int end = at + 1;
      while (end < n && params.domain_characters.indexOf(s.substring(end, end + 1)) >= 0) { end++; }
      if (end == at + 1) { i++; continue; }
      String[] labels = s.substring(at + 1, end).toLowerCase().splitOnToken('.');
      List parts = new ArrayList();
      for (l in labels) { if (l.length() > 0) { parts.add(l); } }
      for (int k = 0; k < parts.size() - 1; k++) {
        String candidate = String.join('.', parts.subList(k, parts.size()));
        if (allow.contains(candidate)) { break; }
        candidates.add(candidate);
      }
      i = end;
    }
  }
  if (!candidates.isEmpty()) { out.put(pair[1], candidates); }
}
if (!out.isEmpty()) {
  if (ctx.dac == null) { ctx.dac = new HashMap(); }
  ctx.dac._disposable_candidates = out;
}
""".strip()

# Painless: the listed domain per key, added beside an error an earlier step recorded.
_RESULT_SCRIPT = """
if (ctx.dac != null && ctx.dac._disposable_matches != null) {
  Map result = new HashMap();
  for (entry in ctx.dac._disposable_matches.entrySet()) {
    def match = entry.getValue();
    if (match instanceof Map && match.domain != null) { result.put(entry.getKey(), match.domain); }
  }
  if (!result.isEmpty()) {
    if (!(ctx.dac.disposable_email instanceof Map)) { ctx.dac.disposable_email = new HashMap(); }
    ctx.dac.disposable_email.putAll(result);
  }
}
""".strip()
_TEMPORARY = [_CANDIDATES, _MATCHES]


def _record_failure() -> dict[str, Any]:
    """Keeps the document: the failed step and its message go to the error field."""
    return {
        "append": {
            "field": ERROR_FIELD,
            "value": "{{{_ingest.on_failure_processor_tag}}}: {{{_ingest.on_failure_message}}}",
            "ignore_failure": True,
        }
    }


def _remove_temporary() -> dict[str, Any]:
    return {
        "remove": {
            "tag": "dac_disposable_cleanup",
            "field": _TEMPORARY,
            "ignore_missing": True,
            "ignore_failure": True,
        }
    }


def _guarded(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A processor whose failure is recorded and passed over, so that the next one runs."""
    return {kind: {**body, "on_failure": [_record_failure()]}}


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
        _guarded(
            "script",
            {
                "tag": "dac_disposable_candidates",
                "lang": "painless",
                "source": _CANDIDATES_SCRIPT,
                "params": {
                    # Pairs, not a map: one ECS field (email.from.address) can feed the
                    # keys of several data sources' rules.
                    "fields": [list(pair) for pair in fields],
                    "allowlist": sorted(domains.allowlisted),
                    "separators": ADDRESS_SEPARATORS,
                    "local_excluded": LOCAL_PART_EXCLUDED,
                    "domain_characters": DOMAIN_CHARACTERS,
                },
            },
        )
    ]
    for _, key in fields:
        processors.append(
            _guarded(
                "enrich",
                {
                    "tag": f"dac_disposable_{key}",
                    "policy_name": POLICY,
                    "field": f"{_CANDIDATES}.{key}",
                    "target_field": f"{_MATCHES}.{key}",
                    "max_matches": 1,
                    "ignore_missing": True,
                },
            )
        )
    processors.append(
        _guarded(
            "script",
            {"tag": "dac_disposable_result", "lang": "painless", "source": _RESULT_SCRIPT},
        )
    )
    processors.append(_remove_temporary())
    pipeline = {
        "description": (
            f"dac-t1585: sets {ENRICHMENT_ROOT}.<field key> to the listed disposable domain of "
            "an address field (parent domains walked, allowlist honoured); a failure is "
            f"recorded in {ERROR_FIELD} and never fails the document."
        ),
        "processors": processors,
        # Reached only if a failure handler fails itself: the document still goes on.
        "on_failure": [_record_failure(), _remove_temporary()],
    }
    return Enrichment(tuple(documents), policy, pipeline, fields)
