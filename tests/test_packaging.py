"""Packaging as `pip install .` reads it: an SPDX licence with its text, a build backend that
understands it (no deprecation warning), the plugin's namespace packages, and the release
notes and contribution guide beside the README. Cheap checks of the metadata; a real install
into a fresh environment is not repeated here (see CONTRIBUTING.md)."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.version import Version

from converters import changelog

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# sha256 of the Apache License 2.0 text as the Apache Software Foundation publishes it
# (https://www.apache.org/licenses/LICENSE-2.0.txt).
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def test_licence_is_an_spdx_expression_with_its_text() -> None:
    project = PYPROJECT["project"]
    # A table ({text = ...}) is deprecated and warned about by setuptools 77 and later.
    assert isinstance(project["license"], str)
    assert canonicalize_license_expression(project["license"]) == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    # Licence classifiers beside an expression are refused by the backend.
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    licence = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(licence).hexdigest() == APACHE_2_SHA256


def test_build_backend_reads_spdx_expressions() -> None:
    system = PYPROJECT["build-system"]
    assert system["build-backend"] == "setuptools.build_meta"
    (setuptools,) = [Requirement(r) for r in system["requires"] if r.startswith("setuptools")]
    # project.license as a string needs 77; every version allowed must be one of those.
    assert not setuptools.specifier.contains(Version("76.9"))
    assert setuptools.specifier.contains(Version("80.9"))
    assert any(spec.operator == "<" for spec in setuptools.specifier), "pin the major range"


def test_plugin_is_packaged_in_pysigma_namespace() -> None:
    """sigma-cli lists the modules of sigma.pipelines; declaring the namespace parents lets a
    normal editable install (not the deprecated compat mode) extend that namespace."""
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find["namespaces"] is True
    assert {"sigma", "sigma.pipelines", "sigma.pipelines.dac"} <= set(find["include"])
    assert not (ROOT / "sigma" / "__init__.py").exists()
    assert not (ROOT / "sigma" / "pipelines" / "__init__.py").exists()
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "editable_mode=compat" not in makefile


def test_changelog_current_release_is_generated() -> None:
    """CHANGELOG.md's current release lists what `make changelog` writes; for this first
    release, every rule at the version the build gives it."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text == changelog.expected(ROOT), "CHANGELOG.md is stale: run `make changelog`"
    release = PYPROJECT["project"]["version"]
    assert text.split("\n## ")[1].startswith(f"{release}\n")
    lock = json.loads((ROOT / "versions.lock.json").read_text(encoding="utf-8"))
    for entry in lock.values():
        assert f"- `{entry['name']}` {entry['version']}: " in text, entry["name"]


def test_changelog_lists_additions_bumps_and_removals(tmp_path: Path) -> None:
    """Against an older release that listed two rules at version 1 and one since removed."""
    lock = json.loads((ROOT / "versions.lock.json").read_text(encoding="utf-8"))
    bumped = next(e for e in lock.values() if int(e["version"]) > 1)["name"]
    same = next(e for e in lock.values() if e["version"] == 1)["name"]
    for name in ("sigma_rules", "pyproject.toml", "versions.lock.json"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name)
    older = (
        "# Changelog\n\n## 0.0.9\n\n<!-- rules:start -->\n### Rules added\n\n"
        f"- `{bumped}` 1: x (y)\n- `{same}` 1: x (y)\n- `retired_rule` 2: x (y)\n"
        "<!-- rules:end -->\n"
    )
    (tmp_path / "CHANGELOG.md").write_text(older, encoding="utf-8")
    text = changelog.expected(tmp_path)
    current = text.split("\n## 0.0.9")[0]
    assert "## 0.1.0\n" in current and text.endswith(older.split("# Changelog\n\n")[1])
    version = next(e["version"] for e in lock.values() if e["name"] == bumped)
    assert f"### Rule versions bumped\n\n- `{bumped}` 1 -> {version}: " in current
    assert f"`{same}`" not in current  # unchanged since 0.0.9
    assert "### Rules removed\n\n- `retired_rule` (was 2)" in current
    # Every rule but the unchanged one (the others added, at their versions), and the removed.
    assert current.count("\n- `") == (len(lock) - 1) + 1


def test_contributing_guide_is_the_checklist() -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for step in ("dac new", "dac validate", "dac show", "dac lock", "make coverage", "make test"):
        assert step in guide, step
