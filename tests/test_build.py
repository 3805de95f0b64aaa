"""`dac build` output: what Splunk and Kibana import, with the playbook in every alert."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from converters.alerts import alert_context, target_field
from converters.build import Project, build
from converters.compile import skipped_targets
from converters.incidents import incident_of
from converters.loading.rules import load_rules
from converters.playbook.model import load_playbook
from converters.playbook.render import render_splunk
from converters.timing import window_seconds
from converters.writers.conf import conf_decode
from tests.dist_helpers import (
    APP,
    ROOT,
    built_dist,
    copy_project,
    kibana_rules,
    read_conf,
)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_dist(tmp_path_factory)


def test_layout(dist: Path) -> None:
    for relative in (
        f"splunk/{APP}/default/app.conf",
        f"splunk/{APP}/default/savedsearches.conf",
        f"splunk/{APP}/default/macros.conf",
        f"splunk/{APP}/default/transforms.conf",
        f"splunk/{APP}/metadata/default.meta",
        f"splunk/{APP}/lookups/dac_disposable_email_domains.csv",
        f"splunk/{APP}-0.1.0.tgz",
        "elastic/rules.ndjson",
        "elastic/enrichment/ingest_pipeline.json",
        "elastic/enrichment/enrich_policy.json",
        "elastic/enrichment/disposable_domains.ndjson",
        "playbooks/T1585.002.md",
        "playbooks/T1585.002.html",
        "manifest.json",
        "coverage.md",
        "attack-navigator-layer.json",
    ):
        assert (dist / relative).is_file(), relative


def test_every_conf_file_parses_with_splunks_parser(dist: Path) -> None:
    for path in sorted((dist / "splunk" / APP).rglob("*.conf")):
        sections = read_conf(path)
        assert sections, f"{path.name} has no stanza"


def test_saved_searches_are_scheduled_es_correlation_searches(dist: Path) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    assert set(searches) == {doc.title for doc in ruleset.docs}
    for doc in ruleset.docs:
        search = searches[doc.title]
        spl = conf_decode(search["search"])
        assert search["enableSched"] == "1"
        assert search["cron_schedule"] == ("0 * * * *" if doc.absence else "*/15 * * * *")
        earliest = int(search["dispatch.earliest_time"].removeprefix("-").removesuffix("m@m"))
        window = window_seconds(doc, ruleset) // 60  # minutes, inner windows included
        lag = max(s.delivery_lag_minutes for s in ruleset.sources_of(doc))
        assert earliest >= window + lag + 15, f"{doc.name}: look-back {earliest}m too short"
        assert search["dispatch.latest_time"] == "now"
        assert "union" not in spl, doc.name  # subsearches are capped without a word
        if doc.is_correlation or doc.new_terms or doc.absence:
            # The search reads the whole event-time range and keeps what is due in its slot.
            assert "dispatch.index_earliest" not in search
            assert 'relative_time(info_max_time, "-5m@m")' in spl, doc.name
        else:
            # A single-event search reads the records indexed in its slot.
            assert search["dispatch.index_earliest"] == "-20m@m"
            assert search["dispatch.index_latest"] == "-5m@m"
        assert search["action.correlationsearch.enabled"] == "1"
        if doc.building_block:  # no notable, no risk (test_building_blocks_ship_quiet)
            continue
        assert search["action.notable"] == "1"
        assert search["action.correlationsearch.detection_type"] == "ebd"
        metadata = json.loads(search["action.correlationsearch.metadata"])
        assert metadata["detection_id"] == doc.id and metadata["deprecated"] == "0"
        assert search["action.risk.param._risk_score"] == "0"
        assert search["action.notable.param.nes_fields"]
        assert search["action.notable.param.security_domain"] == "identity"
        assert search["action.notable.param.severity"] == doc.level
        assert f"`{doc.name}_filter`" in conf_decode(search["search"])
        annotations = json.loads(search["action.correlationsearch.annotations"])
        assert (
            annotations["mitre_attack"] == ["T1585.002"]
            or "T1585.002" in annotations["mitre_attack"]
        )
        assert annotations["dac_indicator"] == [doc.indicator]
        risk = json.loads(search["action.risk.param._risk"])
        assert risk and risk[0]["risk_score"] > 0
        for entry in risk:
            assert entry.get("risk_object_type", "domain") in ("user", "system", "domain")
        drilldowns = json.loads(search["action.notable.param.drilldown_searches"])
        assert drilldowns[0]["search"].startswith("`dac_")


def test_late_records_raise_one_notable_per_group(dist: Path) -> None:
    """A search that reads a whole window (correlation, new terms, absence) can find the same
    group again in a later run when a late record arrives: its notables are suppressed per
    group for the window and the lag (tests/test_schedule_replay.py replays it)."""
    ruleset = load_rules(ROOT / "sigma_rules")
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    for doc in ruleset.docs:
        search = searches[doc.title]
        if doc.is_correlation or doc.new_terms or doc.absence:
            assert search["alert.suppress"] == "1", doc.name
            assert search["alert.suppress.fields"], doc.name
            lag = max(s.delivery_lag_minutes for s in ruleset.sources_of(doc))
            period = int(search["alert.suppress.period"].removesuffix("s"))
            assert period >= (window_seconds(doc, ruleset) // 60 + lag) * 60, doc.name
        elif doc.building_block:
            assert "alert.suppress" not in search, doc.name
        else:
            # One notable per entity within the rule's incident period (converters/incidents).
            incident = incident_of(doc, ruleset)
            source = ruleset.sources_of(doc)[0]
            fields = [target_field(source, f, "splunk") for f in incident.fields]
            assert search["alert.suppress"] == "1", doc.name
            assert search["alert.suppress.fields"] == ",".join(fields), doc.name
            assert search["alert.suppress.period"] == f"{incident.siem_seconds}s", doc.name


def test_kibana_suppresses_alerts_per_incident(dist: Path) -> None:
    """Every Kibana rule but the building blocks groups its alerts by the same fields as the
    Splunk search and the hunt, for a duration: the rule types used (eql, esql, new_terms,
    threat_match) all take alert_suppression in Kibana's schema."""
    ruleset = load_rules(ROOT / "sigma_rules")
    for rule in kibana_rules(dist):
        doc = ruleset.by_id(rule["rule_id"])
        suppression = rule.get("alert_suppression")
        if doc.building_block:
            assert suppression is None, doc.name
            continue
        assert suppression and suppression["group_by"], doc.name
        assert suppression["duration"]["unit"] == "m", doc.name
        minutes = suppression["duration"]["value"]
        incident = incident_of(doc, ruleset)
        if doc.is_correlation or doc.new_terms or doc.absence:
            assert minutes * 60 >= incident.seconds, doc.name
        else:
            assert minutes * 60 == incident.siem_seconds, doc.name
            source = ruleset.sources_of(doc)[0]
            fields = [target_field(source, f, "elastic") for f in incident.fields]
            assert suppression["group_by"] == fields, doc.name


def test_no_stand_in_value_reaches_dist(dist: Path) -> None:
    """The threat-intelligence list ships empty and an empty list emits nothing: no
    documentation range or placeholder is compiled into any artifact."""
    for path in sorted(p for p in dist.rglob("*") if p.is_file() and p.suffix != ".tgz"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for stand_in in ("192.0.2.", "198.51.100.", "203.0.113.", "255.255.255.255", "dac-empty"):
            assert stand_in not in text, f"{path.relative_to(dist)}: {stand_in}"


def test_notables_carry_the_playbook(dist: Path) -> None:
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    for title, search in searches.items():
        if "action.notable" not in search:  # a building block: no notable
            continue
        description = conf_decode(search["action.notable.param.rule_description"])
        next_steps = json.loads(conf_decode(search["action.notable.param.next_steps"]))
        assert next_steps["version"] == 1
        # What fired and the questions in the description; what to do in the next steps.
        for question in playbook.questions:
            assert question.text in description, (title, question.id)
        assert playbook.escalation.summary in next_steps["data"], title
        for step in playbook.l1_steps:
            assert step in next_steps["data"], (title, step)
            assert step not in description, (title, step)
        assert "$result." in description, f"{title}: no alert entity token"


def test_notable_text_round_trips_through_the_conf_parser(dist: Path) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    for doc in (d for d in ruleset.docs if not d.building_block):
        expected = render_splunk(playbook, alert_context(ruleset, doc, "splunk"))
        search = searches[doc.title]
        assert conf_decode(search["action.notable.param.rule_description"]) == expected.description
        stored = json.loads(conf_decode(search["action.notable.param.next_steps"]))
        assert stored["data"] == expected.next_steps


def test_dollar_bracket_and_newlines_survive(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "repo")
    rule = project / "sigma_rules" / "google_workspace" / "gws_users_bulk_upload.yml"
    text = rule.read_text(encoding="utf-8")
    tricky = "  Costs $100 [per] day; see [docs](x) and $result.fake$.\n  Second line [here].\n"
    rule.write_text(
        text.replace("description: |\n", "description: |\n" + tricky, 1), encoding="utf-8"
    )
    dist = build(Project.at(project), tmp_path / "dist")
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    description = conf_decode(
        searches["Google Workspace Bulk Upload of Many User Accounts"][
            "action.notable.param.rule_description"
        ]
    )
    # Literal dollars are doubled so Splunk does not read them as tokens; brackets and the
    # line break come back as written.
    assert "Costs $$100 [per] day; see [docs](x) and $$result.fake$$." in description
    assert "Second line [here]." in description
    macros = read_conf(dist / "splunk" / APP / "default" / "macros.conf")
    assert macros["gws_user_created_filter"]["definition"] == "search *"


def test_macros_and_lookup(dist: Path) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    macros = read_conf(dist / "splunk" / APP / "default" / "macros.conf")
    assert macros["dac_gws_admin"]["definition"] == 'sourcetype="gws:reports:admin"'
    assert (
        macros["dac_o365_management_activity"]["definition"]
        == 'sourcetype="o365:management:activity"'
    )
    for doc in ruleset.docs:
        assert macros[f"{doc.name}_filter"]["definition"] == "search *"
    transforms = read_conf(dist / "splunk" / APP / "default" / "transforms.conf")
    lookup = transforms["dac_disposable_email_domains"]
    assert lookup["match_type"] == "WILDCARD(domain)"
    assert lookup["case_sensitive_match"] == "false"
    path = dist / "splunk" / APP / "lookups" / lookup["filename"]
    with path.open(encoding="utf-8") as handle:
        rows = {row["domain"]: row["disposable_domain"] for row in csv.DictReader(handle)}
    assert rows["mailinator.com"] == "mailinator.com"
    assert rows["*.mailinator.com"] == "mailinator.com"
    assert len(rows) > 20000


@pytest.mark.skipif(
    shutil.which("splunk-appinspect") is None
    and not (Path(sys.executable).parent / "splunk-appinspect").exists(),
    reason="splunk-appinspect not installed",
)
def test_app_passes_appinspect(dist: Path, tmp_path: Path) -> None:
    tool = Path(sys.executable).parent / "splunk-appinspect"
    report = tmp_path / "appinspect.json"
    subprocess.run(
        [str(tool), "inspect", str(dist / "splunk" / f"{APP}-0.1.0.tgz"), "--mode", "test",
         "--output-file", str(report), "--data-format", "json"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    assert summary["failure"] == 0, summary
    assert summary["error"] == 0, summary
    assert summary["success"] > 50, summary


def test_manifest_lists_rules_versions_and_hashes(dist: Path) -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "versions.lock.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in manifest["rules"]] == sorted(d.id for d in ruleset.docs)
    for entry in manifest["rules"]:
        doc = ruleset.by_id(entry["id"])
        assert entry["hash"] == doc.content_hash
        assert entry["version"] == lock[doc.id]["version"]
        skipped = skipped_targets(doc)
        assert entry["targets"] == [t for t in ("splunk", "elastic") if t not in skipped]
        assert entry.get("skipped_targets", {}) == skipped
        assert entry["indicator"] == doc.indicator
    versions = {r["rule_id"]: r["version"] for r in kibana_rules(dist)}
    assert versions == {
        e["id"]: e["version"] for e in manifest["rules"] if "elastic" in e["targets"]
    }


def test_version_lock_is_current() -> None:
    ruleset = load_rules(ROOT / "sigma_rules")
    lock = json.loads((ROOT / "versions.lock.json").read_text(encoding="utf-8"))
    stale = [d.name for d in ruleset.docs if lock.get(d.id, {}).get("hash") != d.content_hash]
    assert not stale, f"rules changed since versions.lock.json, run `dac lock`: {stale}"


def test_changed_rule_gets_next_version(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "repo")
    rule = project / "sigma_rules" / "m365" / "m365_user_added.yml"
    rule.write_text(rule.read_text().replace("level: informational", "level: low"))
    dist = build(Project.at(project), tmp_path / "dist")
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "versions.lock.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r["version"] for r in manifest["rules"]}
    changed_id = load_rules(project / "sigma_rules").by_name("m365_user_added").id
    assert by_name["m365_user_added"] == lock[changed_id]["version"] + 1
    unchanged_id = load_rules(project / "sigma_rules").by_name("gws_user_created").id
    assert by_name["gws_user_created"] == lock[unchanged_id]["version"]


def test_two_builds_are_byte_identical_but_the_timestamp(tmp_path: Path) -> None:
    first = build(Project.at(ROOT), tmp_path / "one")
    second = build(Project.at(ROOT), tmp_path / "two")
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        a, b = (first / relative).read_bytes(), (second / relative).read_bytes()
        if relative == Path("manifest.json"):
            left, right = json.loads(a), json.loads(b)
            left.pop("built_at"), right.pop("built_at")
            assert left == right
        else:
            assert a == b, f"{relative} differs between two builds"


def test_playbook_pages(dist: Path) -> None:
    html = (dist / "playbooks" / "T1585.002.html").read_text(encoding="utf-8")
    markdown = (dist / "playbooks" / "T1585.002.md").read_text(encoding="utf-8")
    for doc in load_rules(ROOT / "sigma_rules").docs:
        assert doc.title in markdown and doc.title in html
    assert "<script" not in html.lower()
    assert "Decision for escalation" in markdown or "Decision for Escalation" in markdown


def test_build_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the build tried to open a network connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    dist = build(Project.at(ROOT), tmp_path / "dist")
    assert (dist / "manifest.json").is_file()


def test_every_target_reads_addresses_with_the_same_pattern(dist: Path) -> None:
    from converters.domains import (
        ADDRESS_DOMAIN_PATTERN,
        ADDRESS_SEPARATORS,
        DOMAIN_CHARACTERS,
        LOCAL_PART_EXCLUDED,
    )

    # Elastic reads the rule through its character sets (no Painless regex), which
    # tests/test_enrichment_pipeline.py holds equal to the pattern.
    pipeline = json.loads((dist / "elastic" / "enrichment" / "ingest_pipeline.json").read_text())
    params = pipeline["processors"][0]["script"]["params"]
    assert params["separators"] == ADDRESS_SEPARATORS
    assert params["local_excluded"] == LOCAL_PART_EXCLUDED
    assert params["domain_characters"] == DOMAIN_CHARACTERS
    spl = (
        ROOT / "tests" / "golden" / "splunk" / "m365_forwarding_disposable_domain.spl"
    ).read_text()
    named = ADDRESS_DOMAIN_PATTERN.replace("@(", "@(?<dac_domain_0>", 1)
    assert named.replace("\\", "\\\\").replace('"', '\\"') in spl


def test_containment_commands_carry_the_alerts_entities(dist: Path) -> None:
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    forwarding = json.loads(
        conf_decode(
            searches["Microsoft 365 Mail Forwarded to a Disposable Email Domain"][
                "action.notable.param.next_steps"
            ]
        )
    )["data"]
    assert "COMMANDS FOR A HUMAN TO RUN AFTER REVIEW (nothing runs automatically)" in forwarding
    # The mailbox's own value (not every parameter), and PowerShell's $null kept literal.
    assert (
        "Set-Mailbox -Identity '$result.dac_parameters_identity$' -ForwardingSmtpAddress $$null"
        in forwarding
    )
    bulk = json.loads(
        conf_decode(
            searches["Microsoft 365 Accounts Added in Bulk by One Actor"][
                "action.notable.param.next_steps"
            ]
        )
    )["data"]
    assert "Revoke-MgUserSignInSession -UserId '$result.UserId$'" in bulk
    assert "Update-MgUser" not in bulk  # the correlation's alert has no added account field
    notes = {r["meta"]["dac_sigma_name"]: r["note"] for r in kibana_rules(dist)}
    # Kibana cannot fill values in: the command names each in capitals, and says which field.
    forwarding_note = notes["m365_forwarding_disposable_domain"]
    assert "Set-Mailbox -Identity 'MAILBOX'" in forwarding_note
    assert "MAILBOX is the alert's mailbox (`o365.audit.Parameters.Identity`)" in forwarding_note
    assert "gam update user ACCOUNT suspended on" in notes["gws_user_created"]
    assert (
        "ACCOUNT is the alert's account (`google_workspace.admin.user.email`)"
        in (notes["gws_user_created"])
    )


def test_alerts_answer_the_playbook_questions_they_can(dist: Path) -> None:
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    routing = conf_decode(
        searches["Google Workspace Mail Routed to a Disposable Email Domain"][
            "action.notable.param.rule_description"
        ]
    )
    # The listed domain the lookup returned, in the very field the search fills.
    assert "$result.dac_disposable_parameters_new_value$" in routing
    spl = (
        ROOT / "tests" / "golden" / "splunk" / "gws_mail_routing_disposable_domain.spl"
    ).read_text()
    assert "OUTPUT disposable_domain AS dac_disposable_parameters_new_value" in spl
    bulk = conf_decode(
        searches["Microsoft 365 Accounts Added in Bulk by One Actor"][
            "action.notable.param.rule_description"
        ]
    )
    assert "How many events in the window? $result.event_count$" in bulk
    notes = {r["meta"]["dac_sigma_name"]: r["note"] for r in kibana_rules(dist)}
    assert "`dac.disposable_email.gws_new_value`" in notes["gws_mail_routing_disposable_domain"]


def test_resolved_sigma_rules_convert_with_sigma_cli(dist: Path) -> None:
    """dist/sigma holds every rule with its thresholds written in: standard Sigma that
    sigma-cli (with this package's pipelines) converts without reading thresholds.yml."""
    import yaml

    written = sorted((dist / "sigma").rglob("*.yml"))
    ruleset = load_rules(ROOT / "sigma_rules")
    assert len(written) == len(ruleset.docs) + len(ruleset.filters)
    burst = yaml.safe_load((dist / "sigma" / "m365" / "m365_bulk_user_creation.yml").read_text())
    assert burst["correlation"]["timespan"] == "1h"
    assert burst["correlation"]["condition"] == {"gte": 5}
    rule = dist / "sigma" / "google_workspace" / "gws_users_bulk_upload.yml"
    sigma = Path(sys.executable).parent / "sigma"
    result = subprocess.run(
        [str(sigma), "convert", "-t", "splunk", "-p", "dac_splunk_gws_admin", str(rule)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    # The stock backend reads the add-on's own field: the count is an intValue.
    assert '"event.parameters{}.intValue">=20' in result.stdout


def test_building_blocks_ship_quiet(dist: Path) -> None:
    """Every sent message is an event other rules count; alone it must not reach the queue:
    disabled and no notable or risk event in Splunk, a building block (alerts hidden) in
    Kibana, enabled everywhere else. Every informational single-event rule is one."""
    ruleset = load_rules(ROOT / "sigma_rules")
    blocks = {d.title for d in ruleset.docs if d.building_block}
    assert "Microsoft 365 Message Sent Through Exchange Online" in blocks
    informational = {
        d.title for d in ruleset.docs if d.level == "informational" and not d.is_correlation
    }
    assert informational == blocks
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    for title, stanza in searches.items():
        if title in {d.title for d in ruleset.docs}:
            assert stanza["disabled"] == ("1" if title in blocks else "0"), title
            quiet = not any(k.startswith(("action.notable", "action.risk")) for k in stanza)
            assert quiet == (title in blocks), title
    for rule in kibana_rules(dist):
        assert (rule.get("building_block_type") == "default") == (rule["name"] in blocks)


def test_absence_alerts_point_at_the_silent_account(dist: Path) -> None:
    """An account nobody signed in to: the drilldown lists that account's sign-ins, and the
    containment suspends that account, never the admin who created it."""
    searches = read_conf(dist / "splunk" / APP / "default" / "savedsearches.conf")
    stanza = searches["Google Workspace Account Not Signed In To After Its Creation"]
    drilldowns = json.loads(stanza["action.notable.param.drilldown_searches"])
    assert drilldowns[1]["search"].endswith('"actor.email"="$result.dac_key$"')
    # A week, the Google login log's 120-minute lag and an hourly run's slot (60 + 5).
    assert stanza["dispatch.earliest_time"] == f"-{7 * 1440 + 120 + 65}m@m"
    assert stanza["cron_schedule"] == "0 * * * *"
    # One notable per account, decided once.
    assert stanza["alert.suppress.fields"] == "dac_key"
    assert (
        "gam update user $result.dac_parameters_user_email$ suspended on"
        in stanza["action.notable.param.next_steps"]
    )
    assert "signout" not in stanza["action.notable.param.next_steps"]
    rule = next(
        r for r in kibana_rules(dist) if r["name"] == stanza["action.correlationsearch.label"]
    )
    # Decided a week and the lag (120 minutes) after the creation.
    assert rule["type"] == "esql" and f"NOW() - {7 * 86400 + 120 * 60} seconds" in rule["query"]
    assert "gam update user ACCOUNT suspended on" in rule["note"]
    assert "ACCOUNT is the alert's account (`dac_key`)" in rule["note"]
    assert "signout" not in rule["note"]
