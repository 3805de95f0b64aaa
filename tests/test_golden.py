"""Golden SPL and EQL per rule: any change to a generated query shows up as a diff.

After an intended change run `make golden` and review the diff of tests/golden/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from converters.compile import skipped_targets
from converters.golden import GOLDEN_DIR, expected_files
from converters.loading.rules import load_rules
from converters.sources import SOURCES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def expected() -> dict[Path, str]:
    return expected_files(load_rules(ROOT / "sigma_rules"))


def test_golden_files_match_the_compiler(expected: dict[Path, str]) -> None:
    folder = ROOT / GOLDEN_DIR
    present = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
    assert present == set(expected), "golden files out of date: run `make golden`"
    for relative, content in expected.items():
        assert (folder / relative).read_text(encoding="utf-8") == content, (
            f"{relative} changed: run `make golden` and review the diff"
        )


def test_every_rule_has_spl_and_eql(expected: dict[Path, str]) -> None:
    docs = load_rules(ROOT / "sigma_rules").docs
    assert {p.stem for p in expected if p.parts[0] == "splunk"} == {d.name for d in docs}
    elastic = {d.name for d in docs if "elastic" not in skipped_targets(d)}
    assert {p.stem for p in expected if p.parts[0] == "elastic"} == elastic


def test_spl_is_scoped_by_data_source_macro_and_tunable(expected: dict[Path, str]) -> None:
    for relative, spl in expected.items():
        if relative.suffix != ".spl":
            continue
        # A correlation of correlations starts with the union of the inner searches, an
        # absence rule with its two searches side by side.
        macros = "|".join(re.escape(s.splunk_macro) for s in SOURCES)
        assert re.match(rf"(\| (union|multisearch)\n\[search )?`({macros})` \(", spl), relative
        assert f"`{relative.stem}_filter`" in spl, relative


def test_eql_is_scoped_by_dataset(expected: dict[Path, str]) -> None:
    for relative, eql in expected.items():
        if relative.suffix == ".eql":
            assert 'event.dataset:"' in eql, relative
