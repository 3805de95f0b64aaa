"""Tuning as code: Sigma filters with the repository's value lists compile into every target,
and keep planned onboarding quiet without hiding the same account used from elsewhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from converters.compile import compile_target
from converters.domains import DomainList
from converters.errors import DacError
from converters.loading.rules import RuleSet, load_rules
from converters.valuelists import load_value_lists
from tests.conftest import TEST_LISTS
from tests.timelines import REPO, add_user, expected, run_eql, run_spl, run_sqlite

SERVICE = "svc-onboarding@contoso.onmicrosoft.com"
ADMIN = "admin@contoso.onmicrosoft.com"
OFFICE = "198.51.100.10"
ELSEWHERE = "203.0.113.45"
BULK = "m365_bulk_user_creation"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tuning")
    for name in ("sigma_rules", "lists"):
        shutil.copytree(REPO / name, root / name)
    with (root / "lists" / "provisioning_accounts.txt").open("a") as handle:
        handle.write(f"{SERVICE.upper()}  # HR onboarding job\n")
    with (root / "lists" / "corporate_ip_ranges.txt").open("a") as handle:
        handle.write("198.51.100.0/24\n")
    return root


@pytest.fixture(scope="module")
def rules(project: Path) -> RuleSet:
    return load_rules(project / "sigma_rules")


@pytest.fixture(scope="module")
def queries(rules: RuleSet, project: Path) -> dict[str, dict[str, str]]:
    # The project's tuning lists, and the tests' threat-intelligence list.
    lists = load_value_lists(project, TEST_LISTS)
    result = {}
    for target in ("sqlite", "elastic", "splunk"):
        compiled = compile_target(rules, target, lists)
        result[target] = {rules.by_id(i).name: q for i, q in compiled.by_rule.items()}
    return result


def alerts(queries: dict[str, dict[str, str]], records: list, domains: DomainList) -> list:  # type: ignore[type-arg]
    return [
        run_sqlite(queries["sqlite"][BULK], records, domains),
        run_eql(queries["elastic"][BULK], records, domains),
        run_spl(queries["splunk"][BULK], queries["sqlite"], records, domains),
    ]


def test_lists_are_read_and_normalised(project: Path) -> None:
    lists = load_value_lists(project)
    assert lists["provisioning_accounts"].values == (SERVICE,)
    assert lists["corporate_ip_ranges"].values == ("198.51.100.0/24",)


def test_planned_onboarding_from_the_office_is_quiet(
    queries: dict[str, dict[str, str]], domains: DomainList
) -> None:
    records = [add_user(m, SERVICE, ip=OFFICE) for m in (0, 5, 10, 15, 20, 25)]
    assert alerts(queries, records, domains) == [set(), set(), set()]


def test_provisioning_account_used_from_elsewhere_still_alerts(
    queries: dict[str, dict[str, str]], domains: DomainList
) -> None:
    records = [add_user(m, SERVICE, ip=ELSEWHERE) for m in (0, 5, 10, 15, 20)]
    want = expected({"UserId": SERVICE}, 20)
    assert alerts(queries, records, domains) == [want, want, want]


def test_other_admin_from_the_office_still_alerts(
    queries: dict[str, dict[str, str]], domains: DomainList
) -> None:
    records = [add_user(m, ADMIN, ip=OFFICE) for m in (0, 5, 10, 15, 20)]
    want = expected({"UserId": ADMIN}, 20)
    assert alerts(queries, records, domains) == [want, want, want]


def test_filters_compile_into_every_target(queries: dict[str, dict[str, str]]) -> None:
    assert f'UserId="{SERVICE}"' in queries["splunk"]["m365_user_added"]
    assert "198.51.100.0/24" in queries["splunk"]["m365_user_added"]
    assert f'user.id:"{SERVICE}"' in queries["elastic"]["m365_user_added"]
    assert 'cidrMatch(source.ip, "198.51.100.0/24")' in queries["elastic"]["m365_user_added"]
    assert SERVICE in queries["sqlite"]["m365_user_added"]


def test_tuning_changes_the_rule_version(rules: RuleSet) -> None:
    shipped = load_rules(REPO / "sigma_rules")
    name = "m365_user_added"
    assert rules.by_name(name).tuning  # the filter is part of the rule's content
    assert rules.by_name(name).content_hash == shipped.by_name(name).content_hash
    untuned = load_rules(_without_filters(REPO / "sigma_rules", Path(rules.root).parent / "bare"))
    assert untuned.by_name(name).content_hash != shipped.by_name(name).content_hash


def _without_filters(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("filters"))
    return target


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("    - m365_user_added", "    - no_such_rule", "not a single-event rule"),
        ("  rules:\n    - m365_user_added", "  rules: any", "must list the rules"),
        (
            "  product: m365\n  service: audit",
            "  product: gcp\n  service: google_workspace.admin",
            "logsource differs",
        ),
    ],
)
def test_bad_filters_are_refused(tmp_path: Path, old: str, new: str, reason: str) -> None:
    root = tmp_path / "rules"
    shutil.copytree(REPO / "sigma_rules", root)
    path = root / "filters" / "m365_planned_provisioning.yml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    with pytest.raises(DacError) as error:
        load_rules(root)
    assert str(path) in str(error.value) and reason in str(error.value)


def test_bad_list_entry_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "corporate_ip_ranges.txt").write_text("# ours\n10.0.0.0/8\nnot-a-net\n")
    with pytest.raises(DacError) as error:
        load_value_lists(tmp_path)
    assert "corporate_ip_ranges.txt:3" in str(error.value)


def test_threat_intel_csv_needs_its_header(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "threat_intel_ips.csv").write_text("192.0.2.0/24,feed,high\n")
    with pytest.raises(DacError) as error:
        load_value_lists(tmp_path)
    assert "threat_intel_ips.csv:1" in str(error.value) and "network,source,confidence" in str(
        error.value
    )


def test_threat_intel_networks_reach_every_target(queries: dict[str, dict[str, str]]) -> None:
    """No target writes the networks into a query it ships: Splunk matches them through a
    macro (the package's CIDR lookup, or ES's ip_intel), Kibana through an indicator-match
    rule; only the reference engine (tests, dac hunt) writes the list it is given."""
    name = "m365_user_added_from_threat_intel_ip"
    # On the address without its port (dac_clientip, evaluated before).
    assert (
        "| `dac_threat_intel(dac_clientip,dac_threat_intel_ips_source_clientip,"
        "dac_threat_intel_ips_confidence_clientip)`" in queries["splunk"][name]
    )
    assert "192.0.2" not in queries["splunk"][name] and "192.0.2" not in queries["elastic"][name]
    assert queries["elastic"][name].endswith("AND source.ip:*)")
    assert "ClientIP LIKE '192.0.2.%'" in queries["sqlite"][name]  # 192.0.2.0/24


def _bulk_upload(actor: str, ip: str, accounts: int) -> dict:  # type: ignore[type-arg]
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": "2026-11-20T09:12:04.137Z",
            "uniqueQualifier": f"-73100455{accounts}{len(ip)}",
            "applicationName": "admin",
            "customerId": "C03az79cb",
        },
        "actor": {"callerType": "USER", "email": actor},
        "ipAddress": ip,
        "events": [
            {
                "type": "USER_SETTINGS",
                "name": "USERS_BULK_UPLOAD",
                "parameters": [
                    {"name": "BULK_UPLOAD_TOTAL_USERS_NUMBER", "intValue": str(accounts)}
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    ("ip", "fires"), [(OFFICE, False), (ELSEWHERE, True)], ids=["office", "elsewhere"]
)
def test_planned_bulk_upload_is_quiet_only_from_the_office(
    queries: dict[str, dict[str, str]], domains: DomainList, ip: str, fires: bool
) -> None:
    """The hard negative of the bulk-upload rule: the provisioning account's planned upload of
    120 accounts from the office; the same upload from elsewhere alerts, on both engines."""
    records = [_bulk_upload(SERVICE, ip, 120)]
    rule = "gws_users_bulk_upload"
    found = [
        run_sqlite(queries["sqlite"][rule], records, domains),
        run_eql(queries["elastic"][rule], records, domains),
    ]
    assert [bool(alerts) for alerts in found] == [fires, fires]


def test_threat_intel_feed_is_a_splunk_cidr_lookup_whatever_its_size(tmp_path: Path) -> None:
    """Splunk matches the customer's feed through a CIDR lookup after the index search, so
    10,000 networks leave the query as it is; the alert carries the entry's source and
    confidence. Kibana reads the threat-intelligence indices instead."""
    from converters.build import Project, build
    from tests.dist_helpers import APP, copy_project, read_conf

    project = copy_project(tmp_path / "project")
    feed = project / "lists" / "threat_intel_ips.csv"
    rows = [f"10.{i // 256}.{i % 256}.0/24,feed-a,high" for i in range(10_000)]
    feed.write_text("network,source,confidence\n" + "\n".join(rows) + "\n", encoding="utf-8")
    rules = load_rules(project / "sigma_rules")
    rule = rules.by_name("gws_user_created_from_threat_intel_ip").id
    spl = compile_target(rules, "splunk").by_rule[rule]
    assert "10.0.0.0/24" not in spl and len(spl) < 2_000
    assert "| `dac_threat_intel(ipAddress,dac_threat_intel_ips_source_ipaddress," in spl
    assert "dac_threat_intel_ips_source_ipaddress=*" in spl
    # Kibana: an indicator-match rule against the threat-intelligence indices.
    assert "10.39.15.0/24" not in compile_target(rules, "elastic").by_rule[rule]

    dist = build(Project.at(project), tmp_path / "dist")
    app = dist / "splunk" / APP
    transforms = read_conf(app / "default" / "transforms.conf")["dac_threat_intel_ips"]
    assert transforms["match_type"] == "CIDR(network)"
    lookup = (app / "lookups" / "dac_threat_intel_ips.csv").read_text(encoding="utf-8")
    assert lookup.splitlines()[:2] == ["network,source,confidence", "10.0.0.0/24,feed-a,high"]
    assert len(lookup.splitlines()) == 10_001
