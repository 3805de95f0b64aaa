"""Hostile rule input: keys given twice, ids that differ only in letter case, values with line
breaks, quotes, backslashes, literal wildcards and dollar signs. Each either builds into queries
and notables that mean exactly the value, or stops `dac validate` / `dac build` with the file,
the line, the rule and the reason (and leaves dist/ as it was)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from converters.domains import DomainList
from converters.engine import EqlEngine
from converters.engine.eql_engine import parse as parse_eql
from tests.dist_helpers import kibana_rules, read_conf
from tests.test_bad_input import RULE_ID, assert_fails, edit_rule, project, run

__all__ = ["project"]  # the fixture, shared with test_bad_input

TITLE = "Google Workspace User Account Created"


def _line_of(path: Path, text: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return lines[occurrence - 1]


def _build(project: Path) -> Path:
    code, output = run(project, "build", "--out", str(project / "dist"))
    assert code == 0, output
    return project / "dist"


def _stanza(dist: Path, title: str = TITLE) -> dict[str, str]:
    return read_conf(dist / "splunk" / "dac_t1585" / "default" / "savedsearches.conf")[title]


# Keys given twice ---------------------------------------------------------------------------


def test_key_twice_in_a_selection(project: Path) -> None:
    path = edit_rule(
        project, "    event.name: CREATE_USER", "    event.name: CREATE_USER\n    event.name: X"
    )
    line = _line_of(path, "event.name:", 2)
    assert_fails(project, f"{path}:{line} [rule {RULE_ID}]", "duplicate key 'event.name'")


def test_key_twice_at_the_top_of_a_rule(project: Path) -> None:
    path = edit_rule(project, "level: informational", "level: informational\nlevel: high")
    line = _line_of(path, "level:", 2)
    assert_fails(
        project, f"{path}:{line}", "duplicate key 'level'", f"first given on line {line - 1}"
    )


def test_key_twice_in_a_filter(project: Path) -> None:
    path = project / "sigma_rules" / "filters" / "gws_planned_provisioning.yml"
    text = path.read_text().replace("author:", "author: someone\nauthor:", 1)
    path.write_text(text)
    assert_fails(project, f"{path}:{_line_of(path, 'author:', 2)}", "duplicate key 'author'")


def test_key_twice_in_thresholds(project: Path) -> None:
    path = project / "sigma_rules" / "thresholds.yml"
    text = path.read_text().replace("  timespan: 1h\n", "  timespan: 1h\n  timespan: 2h\n", 1)
    path.write_text(text)
    assert_fails(project, f"{path}:{_line_of(path, 'timespan: 2h')}", "duplicate key 'timespan'")


def test_key_twice_in_the_playbook(project: Path) -> None:
    path = project / "playbooks" / "T1585.002.yml"
    text = path.read_text().replace(
        "  tactic: Resource Development\n", "  tactic: A\n  tactic: B\n"
    )
    path.write_text(text)
    assert_fails(project, f"{path}:{_line_of(path, 'tactic: B')}", "duplicate key 'tactic'")


def test_every_duplicate_is_reported_at_once(project: Path) -> None:
    path = edit_rule(project, "level: informational", "level: informational\nlevel: high")
    other = project / "sigma_rules" / "m365" / "m365_user_added.yml"
    other.write_text(other.read_text().replace("status:", "status: test\nstatus:", 1))
    code, output = run(project, "validate")
    assert code == 1
    assert f"{path}:{_line_of(path, 'level:', 2)}" in output
    assert f"{other}:{_line_of(other, 'status:', 2)}" in output


# Ids and names without letter case ------------------------------------------------------------


def test_ids_that_differ_only_in_case_are_one_id(project: Path) -> None:
    copy = project / "sigma_rules" / "google_workspace" / "copy.yml"
    path = project / "sigma_rules" / "google_workspace" / "gws_user_created.yml"
    text = path.read_text().replace("name: gws_user_created", "name: gws_copy")
    copy.write_text(text.replace(RULE_ID, RULE_ID.upper()))
    assert_fails(project, "duplicate id", RULE_ID.upper(), "without letter case")
    _, output = run(project, "validate")
    assert "Traceback" not in output and "KeyError" not in output


def test_upper_case_id_and_references_resolve(project: Path) -> None:
    """An id in upper case is the same UUID: the build writes it canonical (the lock, Kibana's
    rule_id and Splunk's metadata stay those of the rule), and a correlation naming a rule in
    another case reads that rule."""
    edit_rule(project, f"id: {RULE_ID}", f"id: {RULE_ID.upper()}")
    burst = project / "sigma_rules" / "google_workspace" / "gws_bulk_user_creation.yml"
    burst.write_text(
        burst.read_text().replace("    - gws_user_created\n", "    - GWS_User_Created\n")
    )
    dist = _build(project)
    manifest = json.loads((dist / "manifest.json").read_text())
    assert RULE_ID in json.dumps(manifest) and RULE_ID.upper() not in json.dumps(manifest)
    rule_ids = {rule["rule_id"] for rule in kibana_rules(dist)}
    assert RULE_ID in rule_ids
    code, output = run(project, "validate")
    assert code == 0 and "stale" not in output.lower(), output  # same hash, same version


def test_unknown_reference_in_any_case_is_named(project: Path) -> None:
    burst = project / "sigma_rules" / "google_workspace" / "gws_bulk_user_creation.yml"
    burst.write_text(burst.read_text().replace("    - gws_user_created\n", "    - GWS_Nobody\n"))
    assert_fails(project, str(burst), "unknown rule 'GWS_Nobody'")


# Values ---------------------------------------------------------------------------------------


def _set_value(project: Path, value: str) -> Path:
    """The rule's event name as a YAML double-quoted string holding ``value`` (Sigma text)."""
    return edit_rule(project, "event.name: CREATE_USER", "event.name: " + json.dumps(value))


def test_line_break_in_a_value_is_refused_by_splunk(project: Path) -> None:
    path = _set_value(project, "CREATE\nUSER")
    line = _line_of(path, "detection:")
    assert_fails(project, f"{path}:{line} [rule {RULE_ID}]", "splunk:", "line break")


def test_literal_asterisk_is_refused_by_splunk(project: Path) -> None:
    path = _set_value(project, "CREATE\\*USER")
    assert_fails(project, f"{path}:", RULE_ID, "literal '*'")


def test_single_wildcard_is_refused_by_splunk(project: Path) -> None:
    path = _set_value(project, "CREATE?USER")
    assert_fails(project, f"{path}:", RULE_ID, "single-character wildcard")


def test_a_value_cannot_spell_a_splunk_mark(project: Path) -> None:
    path = _set_value(project, "CREATE__dac_exact_0__")
    assert_fails(project, f"{path}:", RULE_ID, "reserved for the marks")


def test_values_elastic_carries_exactly(project: Path) -> None:
    """With Splunk skipped, a line break, quotes, a backslash and literal wildcards build into
    EQL that Elasticsearch's grammar reads (the eql library's parser here) as the literal."""
    value = "C\\*R\\?E\"A'T\\\\E\nUSER"  # Sigma: literal C*R?E"A'T\E<LF>USER
    path = _set_value(project, value)
    text = path.read_text().replace(
        "level: informational",
        "level: informational\nskip_targets:\n  splunk: the test value has no search term",
    )
    path.write_text(text)
    dist = _build(project)
    (rule,) = [r for r in kibana_rules(dist) if r["rule_id"] == RULE_ID]
    assert '(event.action in~ ("C*R?E\\"A\'T\\\\E\\nUSER")' in rule["query"], rule["query"]
    parse_eql(rule["query"])
    # The investigation guide shows the value whole: markdown, then JSON, read back give it.
    shown = re.search(r"admin event name (\S+)\.\n", rule["note"])
    assert shown is not None, rule["note"]
    assert json.loads(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", shown.group(1))) == value


def test_dollar_signs_stay_literal_in_the_notable(project: Path) -> None:
    edit_rule(project, f"title: {TITLE}", "title: User Created $bonus$ for $5")
    # Low: a rule with a notable (an informational rule is a building block, without one).
    edit_rule(project, "level: informational", "level: low")
    _set_value(project, "CREATE_$USER$")
    dist = _build(project)
    stanza = _stanza(dist, "User Created $bonus$ for $5")
    first = stanza["action.notable.param.nes_fields"].split(",")[0]
    assert stanza["action.notable.param.rule_title"] == (
        f"User Created $$bonus$$ for $$5 ($result.{first}$)"
    )
    assert stanza["action.risk.param._risk_message"].startswith("User Created $$bonus$$ for $$5:")
    (drilldown,) = json.loads(stanza["action.notable.param.drilldown_searches"])
    assert drilldown["name"] == "Events of User Created $$bonus$$ for $$5"
    assert 'event.name="CREATE_$$USER$$"' in drilldown["search"]
    assert f'="$result.{first}$"' in drilldown["search"]  # our own token stays live
    assert "$$bonus$$" in stanza["action.notable.param.rule_description"]
    # The search itself is no token template: the value is written once, as is.
    assert 'event.name="CREATE_$USER$"' in stanza["search"]
    assert "$bonus$" in yaml.safe_dump(stanza["action.correlationsearch.label"])


def test_literal_wildcards_under_not(project: Path, domains: DomainList) -> None:
    """A filter on literal `*` and `?` values keeps its meaning under NOT: the EQL excludes
    exactly those values (eql engine), no pattern they would spell."""
    path = edit_rule(
        project,
        "    event.name: CREATE_USER\n  condition: selection",
        "    event.name: CREATE_USER\n  quiet:\n    actor.email:\n      - 'a\\*b'\n"
        "      - 'c\\?d*'\n  condition: selection and not quiet",
    )
    path.write_text(
        path.read_text().replace(
            "level: informational", "level: informational\nskip_targets:\n  splunk: test"
        )
    )
    (rule,) = [r for r in kibana_rules(_build(project)) if r["rule_id"] == RULE_ID]
    engine = EqlEngine(domains)
    actors = ["a*b", "aXb", "c?d", "c?dz", "cXd"]
    engine.load(
        {
            "@timestamp": f"2026-11-20T10:0{n}:00Z",
            "event": {"dataset": "google_workspace.admin", "action": "CREATE_USER"},
            "source": {"user": {"email": actor}},
            "_id": actor,
        }
        for n, actor in enumerate(actors)
    )
    alerts = {alert.event_ids[0] for alert in engine.run(rule["query"])}
    assert alerts == {"aXb", "cXd"}, rule["query"]
