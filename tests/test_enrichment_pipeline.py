"""The disposable-domain ingest pipeline runs as an integration's @custom pipeline, inside the
integration's own ingest: it must never fail a document, and its scripts must run under
Painless's default regex limits. No Elasticsearch runs here, so its structure is checked, and
the script's address scan is mirrored in Python over the parameters the pipeline ships and
compared with the pattern the other targets (and the simulated enrichment in
converters/engine/ecs.py) use."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.domains import DomainList, address_domains, load_domains
from converters.targets.enrichment import ERROR_FIELD, make_enrichment
from tests.dist_helpers import ROOT


@pytest.fixture(scope="module")
def pipeline(domains: DomainList) -> dict[str, Any]:
    return make_enrichment(domains).pipeline


def _body(processor: dict[str, Any]) -> dict[str, Any]:
    ((_, body),) = processor.items()
    assert isinstance(body, dict)
    return body


def _scripts(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    return [p["script"] for p in pipeline["processors"] if "script" in p]


def _handled(processor: dict[str, Any]) -> bool:
    """A failure of the processor lets the document through."""
    body = _body(processor)
    if body.get("ignore_failure") is True:
        return True
    handlers = body.get("on_failure") or []
    return bool(handlers) and all(_body(h).get("ignore_failure") is True for h in handlers)


def test_no_step_can_fail_the_document(pipeline: dict[str, Any]) -> None:
    for processor in pipeline["processors"]:
        assert _handled(processor), processor
    handlers = pipeline["on_failure"]
    assert handlers and all(_body(h).get("ignore_failure") is True for h in handlers)


def test_a_failure_is_recorded_and_the_temporary_fields_go(pipeline: dict[str, Any]) -> None:
    for processor in pipeline["processors"]:
        for handler in _body(processor).get("on_failure", []):
            assert handler["append"]["field"] == ERROR_FIELD
            assert "_ingest.on_failure_message" in handler["append"]["value"]
    cleanup = pipeline["processors"][-1]["remove"]
    assert set(cleanup["field"]) == {"dac._disposable_candidates", "dac._disposable_matches"}
    assert cleanup["ignore_missing"] is True
    assert any("remove" in h for h in pipeline["on_failure"])
    # The result joins what is there (an error recorded before) rather than replacing it.
    (result,) = [s for s in _scripts(pipeline) if s["tag"] == "dac_disposable_result"]
    assert "putAll" in result["source"] and "disposable_email = result" not in result["source"]


def test_the_scripts_use_no_painless_regex(pipeline: dict[str, Any]) -> None:
    assert {next(iter(p)) for p in pipeline["processors"]} <= {"script", "enrich", "remove"}
    for script in _scripts(pipeline):
        source = script["source"]
        # A Painless regex is a /literal/ (the scripts divide nothing), =~ or ==~, or a
        # Pattern; String.split and replaceAll take regexes too.
        for construct in ("/", "=~", "Pattern", "matcher", ".split(", "replaceAll", "replaceFirst"):
            assert construct not in source, (script["tag"], construct)


def _painless_scan(value: str, params: dict[str, Any]) -> list[str]:
    """The candidates script's address scan, line for line (its loop over one string)."""
    n, i, found = len(value), 0, []
    while i < n:
        if i > 0 and value[i - 1] not in params["separators"]:
            i += 1
            continue
        at = i
        while at < n and value[at] not in params["local_excluded"]:
            at += 1
        if at == i or not value.startswith("@", at):
            i += 1
            continue
        end = at + 1
        while end < n and value[end] in params["domain_characters"]:
            end += 1
        if end == at + 1:
            i += 1
            continue
        found.append(value[at + 1 : end])
        i = end
    return found


def _params(pipeline: dict[str, Any]) -> dict[str, Any]:
    (candidates,) = [s for s in _scripts(pipeline) if s["tag"] == "dac_disposable_candidates"]
    for name in ("separators", "local_excluded", "domain_characters"):
        assert f"params.{name}" in candidates["source"]
    params = candidates["params"]
    assert isinstance(params, dict)
    return params


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("drop@mailinator.com", ["mailinator.com"]),
        ("smtp:drop@Mailinator.COM", ["Mailinator.COM"]),
        ('"x@mailinator.com" [SMTP:y@partner.example]', ["partner.example"]),
        ("a@b.example; c@d.example,e@f.example", ["b.example", "d.example", "f.example"]),
        ("<user@mx.guerrillamail.com>", ["mx.guerrillamail.com"]),
        ("a@b@c.example", ["b"]),
        ("no address @ here", []),
        ("@mailinator.com", []),
        ("user@", []),
        ("x\u00a0y@mailinator.com", ["mailinator.com"]),  # no-break space: not \s in Java
        ('"\u00a0y@partner.example', []),
    ],
)
def test_the_script_reads_the_addresses_the_pattern_reads(
    pipeline: dict[str, Any], value: str, expected: list[str]
) -> None:
    assert _painless_scan(value, _params(pipeline)) == expected == address_domains(value)


@cache
def _shipped_params() -> dict[str, Any]:
    return _params(make_enrichment(load_domains(ROOT)).pipeline)


# The characters the rule turns on, Unicode spaces that \s is not in Java, and others.
@given(st.text(alphabet='ab.-@ ;,:[<>"]\t\n\x0b\f\rX1Ä\u00a0\u2028', max_size=40))
def test_the_script_and_the_pattern_agree_on_any_text(value: str) -> None:
    assert _painless_scan(value, _shipped_params()) == address_domains(value)
