"""Thresholds live in sigma_rules/thresholds.yml: loaded into the rules, checked, versioned."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from converters.alerts import logic_text
from converters.errors import DacError
from converters.loading.rules import load_rules

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture()
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "sigma_rules"
    shutil.copytree(REPO / "sigma_rules", target)
    return target


def _edit_thresholds(rules_dir: Path, name: str, **changes: object) -> None:
    path = rules_dir / "thresholds.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[name].update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_every_shipped_correlation_takes_its_numbers_from_the_file() -> None:
    ruleset = load_rules(REPO / "sigma_rules")
    thresholds = yaml.safe_load((REPO / "sigma_rules" / "thresholds.yml").read_text())
    correlations = [d for d in ruleset.docs if d.is_correlation]
    assert correlations
    for doc in correlations:
        entry = thresholds[doc.name]
        assert doc.document["correlation"]["timespan"] == entry["timespan"]
        for op, value in entry["condition"].items():
            assert doc.document["correlation"]["condition"][op] == value
        assert doc.threshold is not None and len(doc.threshold.rationale.split()) >= 5
        raw = yaml.safe_load(doc.path.read_text(encoding="utf-8"))
        assert "timespan" not in raw["correlation"], doc.path


def test_a_new_threshold_changes_the_rule_and_its_hash(rules_dir: Path) -> None:
    before = load_rules(rules_dir).by_name("gws_bulk_user_creation")
    _edit_thresholds(rules_dir, "gws_bulk_user_creation", timespan="2h", condition={"gte": 8})
    after = load_rules(rules_dir).by_name("gws_bulk_user_creation")
    assert after.document["correlation"]["timespan"] == "2h"
    assert after.document["correlation"]["condition"] == {"gte": 8}
    assert after.content_hash != before.content_hash


def test_the_rationale_reaches_the_alert_text() -> None:
    ruleset = load_rules(REPO / "sigma_rules")
    doc = ruleset.by_name("message_trace_mail_burst")
    text = logic_text(ruleset, doc)
    assert "50 or more" in text and "within 1 hour" in text
    assert "Why this threshold: Message trace has one row per recipient" in text


def _problems(rules_dir: Path) -> str:
    with pytest.raises(DacError) as caught:
        load_rules(rules_dir)
    return str(caught.value)


def test_a_window_set_in_the_rule_itself_is_refused(rules_dir: Path) -> None:
    path = rules_dir / "m365" / "m365_bulk_user_creation.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  group-by:", "  timespan: 3h\n  group-by:"), encoding="utf-8")
    message = _problems(rules_dir)
    assert "m365_bulk_user_creation.yml:" in message
    assert "correlation sets timespan itself; thresholds live in" in message


def test_a_correlation_without_an_entry_is_refused(rules_dir: Path) -> None:
    path = rules_dir / "thresholds.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["mail_signup_burst_from_one_ip"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    message = _problems(rules_dir)
    assert "mail_signup_burst_from_one_ip.yml" in message
    assert "no entry for this correlation" in message


def test_an_entry_for_no_rule_and_a_missing_rationale_are_refused(rules_dir: Path) -> None:
    path = rules_dir / "thresholds.yml"
    text = path.read_text(encoding="utf-8")
    text += "\ngws_bulk_user_creatoin:\n  timespan: 1h\n  condition: {gte: 3}\n  rationale: x\n"
    path.write_text(text, encoding="utf-8")
    message = _problems(rules_dir)
    assert "thresholds.yml:" in message and "[rule gws_bulk_user_creatoin]" in message
    assert "no rule of this name" in message
    assert "rationale must say" in message


def test_an_unknown_key_in_an_entry_is_refused(rules_dir: Path) -> None:
    _edit_thresholds(rules_dir, "gws_bulk_user_creation", timespn="2h")
    assert "unknown key 'timespn'" in _problems(rules_dir)
