"""Correlations mean the same in every target: a sliding window of `timespan` per group.

The SQLite reference engine and the generated EQL (run by Elastic's `eql` engine) must produce
the same alerts, listed here explicitly; the SPL is checked for its construct, and pySigma's
own bucketed SPL is shown missing the straddling burst.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection

from converters.compile import Queries, compile_target
from converters.domains import DomainList
from converters.loading.rules import RuleSet, load_rules
from converters.valuelists import ValueList
from tests.timelines import (
    add_user,
    correlation_rules_dir,
    expected,
    forward,
    run_eql,
    run_spl,
    run_sqlite,
)

BULK = "m365_bulk_user_creation"
ORDERED = "t_account_then_forwarding"
DISTINCT = "t_distinct_accounts_per_actor"
BOTH_TENANTS = "t_same_admin_both_tenants"
NESTED = "t_bulk_then_forwarding"
ADMIN = "admin@contoso.onmicrosoft.com"
OTHER = "helpdesk@contoso.onmicrosoft.com"


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return load_rules(correlation_rules_dir(tmp_path_factory.mktemp("c") / "rules"))


@pytest.fixture(scope="module")
def compiled(rules: RuleSet, lists: dict[str, ValueList]) -> dict[str, Queries]:
    return {t: compile_target(rules, t, lists) for t in ("sqlite", "elastic", "splunk")}


def query(compiled: dict[str, Queries], rules: RuleSet, target: str, name: str) -> str:
    return compiled[target].by_rule[rules.by_name(name).id]


def both(
    compiled: dict[str, Queries], rules: RuleSet, name: str, records: list, domains: DomainList
) -> tuple[set, set]:  # type: ignore[type-arg]
    sql = run_sqlite(query(compiled, rules, "sqlite", name), records, domains)
    eql = run_eql(query(compiled, rules, "elastic", name), records, domains)
    return sql, eql


def spl(
    compiled: dict[str, Queries], rules: RuleSet, name: str, records: list, domains: DomainList
) -> set:  # type: ignore[type-arg]
    base = {d.name: compiled["sqlite"].by_rule[d.id] for d in rules.docs if not d.is_correlation}
    return run_spl(query(compiled, rules, "splunk", name), base, records, domains)


# The burst from 10:40 to 11:20: three creations in each clock hour, six within 40 minutes.
STRADDLE = [40, 48, 56, 64, 72, 80]


TIMELINES = {
    "straddles_clock_hour": (
        [add_user(m, ADMIN) for m in STRADDLE],
        expected({"UserId": ADMIN}, 72, 80),
    ),
    "arrives_out_of_order": (
        [add_user(m, ADMIN) for m in (80, 40, 64, 48, 72, 56)],
        expected({"UserId": ADMIN}, 72, 80),
    ),
    "mixed_case_actor": (
        [add_user(m, a) for m, a in zip(STRADDLE, [ADMIN, ADMIN.upper(), ADMIN] * 2, strict=True)],
        expected({"UserId": ADMIN}, 72, 80),
    ),
    "below_threshold": ([add_user(m, ADMIN) for m in (0, 10, 20, 30)], set()),
    "exactly_at_threshold": (
        [add_user(m, ADMIN) for m in (0, 10, 20, 30, 40)],
        expected({"UserId": ADMIN}, 40),
    ),
    "spread_over_three_hours": ([add_user(m, ADMIN) for m in (0, 45, 90, 135, 180)], set()),
    "two_groups_interleaved": (
        [add_user(m, ADMIN) for m in (0, 10, 20, 30, 40)]
        + [add_user(m, OTHER) for m in (5, 15, 25, 35, 45)],
        expected({"UserId": ADMIN}, 40) | expected({"UserId": OTHER.lower()}, 45),
    ),
    "two_groups_each_below": (
        [add_user(m, ADMIN) for m in (0, 10, 20)] + [add_user(m, OTHER) for m in (5, 15)],
        set(),
    ),
}


@pytest.mark.parametrize("name", sorted(TIMELINES))
def test_event_count_engines_agree(
    name: str, compiled: dict[str, Queries], rules: RuleSet, domains: DomainList
) -> None:
    records, want = TIMELINES[name]
    sql, eql = both(compiled, rules, BULK, records, domains)
    assert sql == want
    assert eql == want
    assert spl(compiled, rules, BULK, records, domains) == want


ORDERED_TIMELINES = {
    "account_then_forwarding": (
        [add_user(0, ADMIN), forward(20, ADMIN)],
        expected({"UserId": ADMIN}, 20),
    ),
    "forwarding_then_account": ([forward(0, ADMIN), add_user(20, ADMIN)], set()),
    "too_far_apart": ([add_user(0, ADMIN), forward(61, ADMIN)], set()),
    "other_actor_forwards": ([add_user(0, ADMIN), forward(20, OTHER)], set()),
    "mixed_case_and_out_of_order": (
        [forward(30, ADMIN.upper()), add_user(5, ADMIN)],
        expected({"UserId": ADMIN}, 30),
    ),
}


@pytest.mark.parametrize("name", sorted(ORDERED_TIMELINES))
def test_temporal_ordered_engines_agree(
    name: str, compiled: dict[str, Queries], rules: RuleSet, domains: DomainList
) -> None:
    records, want = ORDERED_TIMELINES[name]
    sql, eql = both(compiled, rules, ORDERED, records, domains)
    assert sql == want
    assert eql == want
    assert spl(compiled, rules, ORDERED, records, domains) == want


def test_value_count_counts_distinct_values(
    compiled: dict[str, Queries], rules: RuleSet, domains: DomainList
) -> None:
    sql = query(compiled, rules, "sqlite", DISTINCT)
    same = [add_user(m, ADMIN, "x@contoso.onmicrosoft.com") for m in (0, 10, 20, 30)]
    assert run_sqlite(sql, same, domains) == set()
    distinct = [add_user(m, ADMIN, f"u{m}@contoso.onmicrosoft.com") for m in (0, 10, 20)]
    assert run_sqlite(sql, distinct, domains) == expected({"UserId": ADMIN}, 20)
    assert spl(compiled, rules, DISTINCT, same, domains) == set()
    assert spl(compiled, rules, DISTINCT, distinct, domains) == expected({"UserId": ADMIN}, 20)
    # pySigma's EQL would require the *same* value N times; ours turns to ES|QL's distinct count.
    elastic = compiled["elastic"]
    assert elastic.languages[rules.by_name(DISTINCT).id] == "esql"
    assert "COUNT_DISTINCT(dac_value)" in query(compiled, rules, "elastic", DISTINCT)
    assert "dc(dac_value) as value_count" in query(compiled, rules, "splunk", DISTINCT)


def test_unordered_temporal_with_aliases(compiled: dict[str, Queries], rules: RuleSet) -> None:
    spl = query(compiled, rules, "splunk", BOTH_TENANTS)
    assert "dac_g0=lower('actor.email')" in spl and "dac_g0=lower('UserId')" in spl
    assert 'rename dac_g0 AS "admin"' in spl
    esql = query(compiled, rules, "elastic", BOTH_TENANTS)
    assert "TO_LOWER(CASE(" in esql and "`source.user.email`" in esql and "`user.id`" in esql


def test_correlation_of_correlations(
    compiled: dict[str, Queries], rules: RuleSet, domains: DomainList
) -> None:
    records = [add_user(m, ADMIN) for m in (0, 5, 10, 15, 20)] + [forward(50, ADMIN)]
    sql = run_sqlite(query(compiled, rules, "sqlite", NESTED), records, domains)
    assert {dict(group)["UserId"] for group, _ in sql} == {ADMIN}
    assert (
        run_sqlite(query(compiled, rules, "sqlite", NESTED), records[:4] + records[5:], domains)
        == set()
    )
    # One pass, no subsearch: the inner window over its rule's rows, then the outer one.
    spl = query(compiled, rules, "splunk", NESTED)
    assert spl.startswith("| multisearch") and "union" not in spl and "[search" in spl
    assert 'count(eval(dac_rule="m365_user_added")) as dac_m_0' in spl
    assert "dc(dac_outer) as rule_count" in spl
    # Elastic reads the inner rules' alerts (their Kibana rule_id is their Sigma id).
    nested_id = rules.by_name(NESTED).id
    assert compiled["elastic"].languages[nested_id] == "esql"
    esql = compiled["elastic"].by_rule[nested_id]
    assert esql.startswith("FROM .alerts-security.alerts-*")
    for inner in ("m365_bulk_user_creation", "m365_forwarding_disposable_domain"):
        assert f'"{rules.by_name(inner).id}"' in esql
    assert "COUNT_DISTINCT(dac_rule)" in esql and "rule_count >= 2" in esql


def test_opted_out_rules_are_listed_not_built(compiled: dict[str, Queries], rules: RuleSet) -> None:
    quiet = rules.by_name("t_quiet_actor").id
    assert quiet not in compiled["elastic"].by_rule
    assert "maximum" in compiled["elastic"].skipped[quiet]
    assert quiet not in compiled["splunk"].by_rule
    assert "running count" in compiled["splunk"].skipped[quiet]


def test_inexpressible_rule_fails_without_opt_out(tmp_path: Path) -> None:
    from converters.errors import DacError

    folder = correlation_rules_dir(tmp_path / "rules")
    path = folder / "t_quiet_actor.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        re.sub(r"skip_targets:\n  elastic: .*\n  splunk: .*\n", "", text), encoding="utf-8"
    )
    for target, why in (("elastic", "minimum"), ("splunk", "first event")):
        with pytest.raises(DacError) as error:
            compile_target(load_rules(folder), target)
        message = str(error.value)
        assert str(path) in message and "lt 3" not in message
        assert "'< 3'" in message and why in message


def test_no_correlation_search_uses_fixed_buckets(compiled: dict[str, Queries]) -> None:
    for spl in compiled["splunk"].by_rule.values():
        assert not re.search(r"\b(bin|bucket)\b[^|]*_time", spl), spl
        if "streamstats" in spl:
            assert "| sort 0 _time" in spl


def test_baseline_pysigma_buckets_miss_the_straddling_burst(rules: RuleSet) -> None:
    """The baseline this package fixes: pySigma's stock Splunk conversion counts per clock
    hour, and neither hour of the 10:40-11:20 burst reaches the threshold of 5."""
    base = rules.by_name("m365_user_added").document
    correlation = rules.by_name(BULK).document  # with its window from thresholds.yml
    collection = SigmaCollection.from_dicts([base, correlation])
    spl = SplunkBackend().convert(collection)[-1]
    assert "bin _time span=1h" in spl and "event_count >= 5" in spl
    per_hour: dict[int, int] = {}
    for minute in STRADDLE:
        per_hour[minute // 60] = per_hour.get(minute // 60, 0) + 1
    assert per_hour == {0: 3, 1: 3}
    assert max(per_hour.values()) < 5  # every bucket stays below the threshold: no alert
    # ... while the sliding window over the same events alerts (see the timeline tests).


def test_dispatch_window_covers_timespan_and_interval(tmp_path: Path) -> None:
    from converters.timing import INTERVAL_MINUTES, schedule_for

    rules = load_rules(correlation_rules_dir(tmp_path / "rules"))
    nested = schedule_for(rules.by_name(NESTED), rules)
    assert nested.window_seconds == 2 * 3600 + 3600  # its 2h plus the 1h burst it reads
    assert nested.lookback_minutes >= 180 + INTERVAL_MINUTES


def test_random_interleavings_agree(
    compiled: dict[str, Queries], rules: RuleSet, domains: DomainList
) -> None:
    """Shuffled arrival order never changes the alerts."""
    records, want = TIMELINES["two_groups_interleaved"]
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    sql, eql = both(compiled, rules, BULK, shuffled, domains)
    assert sql == want == eql


def test_build_with_every_correlation_type(tmp_path: Path) -> None:
    """The Splunk app carries every correlation; Kibana gets EQL or ES|QL rules, and the
    opted-out ones are listed in the manifest with their reason instead."""
    import json
    import shutil

    from converters.build import Project, build
    from tests.timelines import REPO

    root = tmp_path / "repo"
    correlation_rules_dir(root / "sigma_rules")
    for name in ("playbooks", "lists"):
        shutil.copytree(REPO / name, root / name)
    dist = build(Project.at(root), tmp_path / "dist")
    kibana = [
        json.loads(line) for line in (dist / "elastic" / "rules.ndjson").read_text().splitlines()
    ]
    by_name = {rule["meta"]["dac_sigma_name"]: rule for rule in kibana}
    assert by_name[DISTINCT]["type"] == by_name[DISTINCT]["language"] == "esql"
    assert "index" not in by_name[DISTINCT]
    assert by_name[DISTINCT]["query"].startswith("FROM logs-o365.audit-*")
    assert by_name[ORDERED]["type"] == "eql" and by_name[ORDERED]["index"]
    assert by_name[NESTED]["type"] == "esql" and "t_quiet_actor" not in by_name
    manifest = json.loads((dist / "manifest.json").read_text())
    entries = {entry["name"]: entry for entry in manifest["rules"]}
    assert entries["t_quiet_actor"]["targets"] == []
    assert "maximum" in entries["t_quiet_actor"]["skipped_targets"]["elastic"]
    assert "first event" in entries["t_quiet_actor"]["skipped_targets"]["splunk"]
    searches = (dist / "splunk" / "dac_t1585" / "default" / "savedsearches.conf").read_text()
    assert "Test Bulk Creation With Disposable Forwarding" in searches
    # The nested correlation looks back over both windows plus the schedule.
    assert "dispatch.earliest_time = -200m@m" in searches
