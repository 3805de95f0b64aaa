"""`dac deploy splunk` / `dac verify splunk` against a fake Splunk REST API on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import addonfactory_splunk_conf_parser_lib as conf_parser
import pytest

from converters.build import Project, build
from converters.writers.conf import conf_decode
from tests.deploy_servers.harness import SPLUNK_TOKEN, Run, dac, dist_args, environment
from tests.deploy_servers.splunk import FakeSplunk

ROOT = Path(__file__).resolve().parent.parent
APP = "dac_t1585"
SEARCHES = "saved/searches"
MACROS = "macros"
TUNED = 'search NOT actor.email="svc-provisioning@example.com"'


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(Project.at(ROOT), tmp_path_factory.mktemp("deploy-splunk") / "dist")


@pytest.fixture
def splunk() -> Iterator[FakeSplunk]:
    with FakeSplunk(SPLUNK_TOKEN) as server:
        yield server
        assert server.violations == [], server.violations


def conf(dist: Path, name: str) -> dict[str, dict[str, str]]:
    parser = conf_parser.TABConfigParser()
    parser.read_string((dist / "splunk" / APP / "default" / name).read_text(encoding="utf-8"))
    return {
        section: {k: conf_decode(v) for k, v in parser.items(section) if k != "__name__"}
        for section in parser.sections()
    }


def shipped(dist: Path) -> int:
    """What the app ships: saved searches and macros, plus each lookup's file and definition,
    and the app itself."""
    lookups = len(conf(dist, "transforms.conf"))
    return len(conf(dist, "savedsearches.conf")) + len(conf(dist, "macros.conf")) + 2 * lookups + 1


def deploy(dist: Path, splunk: FakeSplunk, *options: str) -> Run:
    return dac(["deploy", "splunk", *dist_args(dist, *options)], environment(splunk=splunk))


def verify(dist: Path, splunk: FakeSplunk) -> Run:
    return dac(["verify", "splunk", *dist_args(dist, "--json")], environment(splunk=splunk))


def test_dry_run_prints_the_plan_and_writes_nothing(dist: Path, splunk: FakeSplunk) -> None:
    run = deploy(dist, splunk, "--dry-run")
    assert run.exit_code == 0, run.stdout
    assert "Plan (dry run: nothing written): splunk" in run.stdout
    for title in conf(dist, "savedsearches.conf"):
        assert title in run.stdout
    assert f"dry run: {shipped(dist)} change(s) planned, nothing written" in run.stdout
    assert splunk.writes() == []
    assert APP not in splunk.apps

    data = deploy(dist, splunk, "--dry-run", "--json").json
    assert data["mode"] == "dry-run" and data["ok"] is True
    assert data["summary"]["create"] == shipped(dist)
    assert {i["status"] for i in data["items"]} == {"planned"}
    assert splunk.writes() == []


def test_deploy_writes_dist_and_a_second_deploy_changes_nothing(
    dist: Path, splunk: FakeSplunk
) -> None:
    first = deploy(dist, splunk, "--json")
    assert first.exit_code == 0, first.stdout
    assert first.summary()["applied"] == shipped(dist) and first.summary()["failed"] == 0

    searches = conf(dist, "savedsearches.conf")
    assert splunk.names(SEARCHES, APP) == set(searches)
    for title, settings in searches.items():
        assert splunk.content(SEARCHES, APP, title) == settings
        assert splunk.objects[(SEARCHES, APP, title)]["acl"]["sharing"] == "global"
    for name, settings in conf(dist, "macros.conf").items():
        assert splunk.content(MACROS, APP, name) == settings
    for name, settings in conf(dist, "transforms.conf").items():
        assert splunk.content("transforms", APP, name) == settings
    csv_path = dist / "splunk" / APP / "lookups" / "dac_disposable_email_domains.csv"
    with csv_path.open(encoding="utf-8", newline="") as handle:
        assert splunk.lookups[(APP, csv_path.name)] == list(csv.reader(handle))
    assert splunk.lookup_acl[(APP, csv_path.name)] == "global"

    splunk.forget()
    second = deploy(dist, splunk)
    assert second.exit_code == 0, second.stdout
    assert f"{shipped(dist)} item(s): {shipped(dist)} unchanged" in second.stdout
    assert "deployed: 0 change(s) applied" in second.stdout
    assert splunk.writes() == []


def _customer_state(splunk: FakeSplunk, dist: Path) -> None:
    """An app deployed earlier and then tuned, next to the customer's own searches."""
    deploy(dist, splunk)
    splunk.put(MACROS, APP, "gws_user_created_filter", {"definition": TUNED})
    splunk.put(MACROS, APP, "dac_gws_admin", {"definition": 'index=gws sourcetype="gws"'})
    marker = json.dumps({"mitre_attack": ["T1585.002"], "dac_indicator": ["escalation"]})
    splunk.put(
        SEARCHES,
        APP,
        "Old dac rule",
        {"search": "| makeresults", "action.correlationsearch.annotations": marker},
    )
    splunk.put(SEARCHES, APP, "SOC own search", {"search": "index=main"})
    splunk.put(
        SEARCHES,
        APP,
        "SOC annotated",
        {
            "search": "index=x",
            "action.correlationsearch.annotations": '{"mitre_attack": ["T1078"]}',
        },
    )
    splunk.put(
        SEARCHES,
        "search",
        "Other app clone",
        {"search": "index=y", "action.correlationsearch.annotations": marker},
        sharing="global",
    )


def test_prune_removes_only_our_stale_searches_and_tuning_survives(
    dist: Path, splunk: FakeSplunk
) -> None:
    _customer_state(splunk, dist)
    splunk.forget()

    without = deploy(dist, splunk, "--json")
    assert without.exit_code == 0
    assert without.items(name="Old dac rule")[0]["action"] == "extra"
    assert "Old dac rule" in splunk.names(SEARCHES, APP)
    assert splunk.writes() == []  # nothing else differs: tuned macros are kept, not drift

    pruned = deploy(dist, splunk, "--prune", "--json")
    assert pruned.exit_code == 0, pruned.stdout
    assert [(i["name"], i["status"]) for i in pruned.items(action="delete")] == [
        ("Old dac rule", "applied")
    ]
    kept = {i["name"] for i in pruned.items(action="keep")}
    assert kept == {"gws_user_created_filter", "dac_gws_admin"}
    assert splunk.content(MACROS, APP, "gws_user_created_filter")["definition"] == TUNED
    assert splunk.content(MACROS, APP, "dac_gws_admin")["definition"].startswith("index=gws")
    assert "Old dac rule" not in splunk.names(SEARCHES, APP)
    assert {"SOC own search", "SOC annotated"} <= splunk.names(SEARCHES, APP)
    assert "Other app clone" in splunk.names(SEARCHES, "search")
    touched = [s.path for s in splunk.writes()]
    assert len(touched) == 1 and touched[0].endswith("/saved/searches/Old dac rule")


def test_verify_catches_a_changed_search_and_deploy_repairs_it(
    dist: Path, splunk: FakeSplunk
) -> None:
    _customer_state(splunk, dist)
    clean = verify(dist, splunk)
    # The stale search of ours is drift; the tuned macros are not.
    assert clean.exit_code == 1
    assert [i["name"] for i in clean.json["items"] if i["action"] in ("extra", "update")] == [
        "Old dac rule"
    ]
    deploy(dist, splunk, "--prune")
    assert verify(dist, splunk).exit_code == 0

    title = "Google Workspace User Account Created"
    splunk.objects[(SEARCHES, APP, title)]["content"]["search"] = "index=* | head 1"
    splunk.objects[(SEARCHES, APP, title)]["content"]["cron_schedule"] = "0 * * * *"
    del splunk.objects[(MACROS, APP, "m365_user_added_filter")]
    drift = verify(dist, splunk)
    assert drift.exit_code == 1
    assert drift.json["ok"] is False
    changed = {
        (i["name"], i["action"]): i["detail"]
        for i in drift.json["items"]
        if i["action"] not in ("unchanged", "keep")
    }
    assert changed == {
        (title, "update"): "differs: cron_schedule, search",
        ("m365_user_added_filter", "create"): "",
    }
    human = dac(["verify", "splunk", *dist_args(dist)], environment(splunk=splunk))
    assert human.exit_code == 1 and "drift: 2 item(s) differ from dist" in human.stdout

    repaired = deploy(dist, splunk, "--json")
    assert repaired.exit_code == 0 and repaired.summary()["applied"] == 2
    assert verify(dist, splunk).exit_code == 0


def test_a_search_the_customer_disabled_stays_disabled(dist: Path, splunk: FakeSplunk) -> None:
    """Whether a deployed search runs is the customer's choice, as Kibana keeps a rule's
    enabled state: the build's `disabled` applies on creation only."""
    deploy(dist, splunk)
    title = "Google Workspace Bulk Upload of Many User Accounts"
    content = splunk.objects[(SEARCHES, APP, title)]["content"]
    assert content["disabled"] == "0"
    content["disabled"] = "1"
    content["search"] = "index=* | head 1"
    assert verify(dist, splunk).items(name=title)[0]["detail"] == "differs: search"
    splunk.forget()
    assert deploy(dist, splunk).exit_code == 0
    content = splunk.objects[(SEARCHES, APP, title)]["content"]
    assert content["disabled"] == "1"
    assert content["search"] == conf(dist, "savedsearches.conf")[title]["search"]
    assert verify(dist, splunk).exit_code == 0


def test_retries_on_429_5xx_slow_and_dropped_connections_make_no_duplicates(
    dist: Path, splunk: FakeSplunk
) -> None:
    splunk.inject("GET", r"/services/apps/local/", "status", status=429, retry_after="0")
    splunk.inject("POST", r"/saved/searches$", "drop_after")  # created, the answer is lost
    splunk.inject("POST", r"/configs/conf-macros$", "status", status=503, times=2)
    splunk.inject("POST", r"/lookup_edit/", "drop")
    splunk.inject("GET", r"/configs/conf-transforms$", "slow", delay=1.3)
    splunk.inject("POST", r"/acl$", "status", status=502)

    run = deploy(dist, splunk, "--json")
    assert run.exit_code == 0, run.stdout
    assert run.summary()["applied"] == shipped(dist)
    assert all(f.times == 0 for f in splunk.faults)
    # The lost answer: the retry met 409 and updated instead; one search of each name.
    searches = conf(dist, "savedsearches.conf")
    assert splunk.names(SEARCHES, APP) == set(searches)
    creates = [s for s in splunk.seen if s.method == "POST" and s.path.endswith("/saved/searches")]
    assert [s.status for s in creates].count(409) == 1
    for title, settings in searches.items():
        assert splunk.content(SEARCHES, APP, title) == settings


def test_partial_failure_is_reported_per_item_with_exit_1(dist: Path, splunk: FakeSplunk) -> None:
    deploy(dist, splunk)
    broken, refused, fine = (
        "Google Workspace User Account Created",
        "Microsoft 365 User Account Added",
        "Microsoft 365 Accounts Added in Bulk by One Actor",
    )
    for title in (broken, refused, fine):
        splunk.objects[(SEARCHES, APP, title)]["content"]["search"] = "index=changed"
    splunk.inject("POST", f"/saved/searches/{broken}$", "status", status=500, times=100)
    splunk.inject("POST", f"/saved/searches/{refused}$", "status", status=403, times=100)
    splunk.forget()

    run = deploy(dist, splunk, "--json")
    assert run.exit_code == 1
    status = {i["name"]: (i["status"], i["error"]) for i in run.items(action="update")}
    assert status[fine] == ("applied", "")
    assert status[broken][0] == "failed" and "HTTP 500 after 4 attempt(s)" in status[broken][1]
    assert status[refused][0] == "failed" and "HTTP 403" in status[refused][1]
    posts = [s for s in splunk.seen if s.method == "POST" and s.path.endswith(refused)]
    assert len(posts) == 1  # a 4xx is not retried
    assert splunk.content(SEARCHES, APP, fine)["search"] != "index=changed"

    human = deploy(dist, splunk)
    assert human.exit_code == 1
    assert "deployment incomplete: 0 of 2 change(s) applied" in human.stdout


def test_when_the_app_cannot_be_created_nothing_else_is_attempted(
    dist: Path, splunk: FakeSplunk
) -> None:
    splunk.inject("POST", r"/services/apps/local$", "status", status=403)
    run = deploy(dist, splunk, "--json")
    assert run.exit_code == 1
    statuses = {(i["kind"], i["status"]) for i in run.json["items"]}
    assert ("app", "failed") in statuses
    assert {s for k, s in statuses if k != "app"} == {"not-attempted"}
    assert [s.path for s in splunk.writes()] == ["/services/apps/local"]


def test_missing_lookup_editor_fails_the_lookup_only(dist: Path) -> None:
    with FakeSplunk(SPLUNK_TOKEN, editor=False) as splunk:
        run = deploy(dist, splunk, "--json")
    assert run.exit_code == 1
    failed = run.items(status="failed")
    assert [i["kind"] for i in failed] == ["lookup file"] * len(conf(dist, "transforms.conf"))
    assert "Lookup Editor" in failed[0]["error"]
    assert run.summary()["applied"] == shipped(dist) - len(failed)
