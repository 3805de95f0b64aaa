"""`dac build --out`: only an empty folder or a previous build is ever replaced; everything
else is refused, untouched, with a message naming the folder and the reason."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters import build as build_module
from converters.build import Project, build
from converters.cli import main
from converters.errors import DacError
from tests.dist_helpers import copy_project


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "repo")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _dac_build(root: Path, out: Path | str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["build", "--root", str(root), "--out", str(out)])
    return result.exit_code, result.output


def _debris(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".building-" in p.name or ".old-" in p.name)


@pytest.mark.parametrize("target", [".", "sigma_rules", "playbooks", "playbooks/templates"])
def test_the_repository_and_its_rule_folders_are_refused(project: Path, target: str) -> None:
    (project / "NOTES.md").write_text("my notes\n")
    before = _snapshot(project)
    code, output = _dac_build(project, project / target)
    assert code == 1
    assert "--out refused" in output
    assert _snapshot(project) == before
    assert _debris(project) == [] and _debris(project.parent) == []


def test_a_folder_holding_the_repository_is_refused(project: Path) -> None:
    code, output = _dac_build(project, project.parent)
    assert code == 1
    assert "holds the project's" in output
    assert (project / "sigma_rules").is_dir()


def test_an_output_inside_the_rules_is_refused(project: Path) -> None:
    # It would be read back as rules by the next build.
    code, output = _dac_build(project, project / "sigma_rules" / "dist")
    assert code == 1
    assert "which the build reads" in output
    assert not (project / "sigma_rules" / "dist").exists()


def test_the_filesystem_root_is_refused_without_debris(project: Path) -> None:
    before = sorted(os.listdir("/"))
    code, output = _dac_build(project, "/")
    assert code == 1
    assert "the filesystem root" in output
    assert sorted(os.listdir("/")) == before


def test_the_home_folder_and_its_parents_are_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home" / "analyst"
    home.mkdir(parents=True)
    (home / ".bashrc").write_text("export PS1='$ '\n")
    monkeypatch.setenv("HOME", str(home))
    for out in ("~", str(home), str(home.parent)):
        code, output = _dac_build(project, out)
        assert code == 1, out
        assert "home folder" in output
    assert (home / ".bashrc").read_text() == "export PS1='$ '\n"


def test_a_folder_with_a_users_files_is_refused_and_left_intact(
    project: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "todo.txt").write_text("keep me\n")
    (notes / "sub" / "draft.md").write_text("# draft\n")
    code, output = _dac_build(project, notes)
    assert code == 1
    assert "did not write (sub, todo.txt)" in output
    assert _snapshot(notes) == {"todo.txt": b"keep me\n", "sub/draft.md": b"# draft\n"}
    assert _debris(tmp_path) == []


def test_a_file_is_refused(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "dist"
    target.write_text("not a folder\n")
    code, output = _dac_build(project, target)
    assert code == 2  # click's usage error: the option takes a folder
    assert "is a file" in output
    assert target.read_text() == "not a folder\n"


def test_a_manifest_of_another_tool_is_not_ours(project: Path, tmp_path: Path) -> None:
    other = tmp_path / "dist"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"generator": "webpack"}))
    code, output = _dac_build(project, other)
    assert code == 1
    assert "manifest.json" in output
    assert (other / "manifest.json").exists()


def test_an_empty_folder_and_a_previous_build_are_replaced(project: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    assert build(Project.at(project), dist) == dist
    manifest = json.loads((dist / "manifest.json").read_text())
    assert manifest["files"] == sorted(
        p.relative_to(dist).as_posix()
        for p in dist.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    )
    stale = dist / "elastic" / "rules.ndjson"
    stale.write_text("stale\n")  # a file the manifest lists: the build's own, replaced
    build(Project.at(project), dist)
    assert stale.read_text() != "stale\n"
    assert _debris(tmp_path) == []


def test_a_previous_build_with_a_users_file_added_is_refused(project: Path, tmp_path: Path) -> None:
    dist = build(Project.at(project), tmp_path / "dist")
    (dist / "splunk" / "my-notes.txt").write_text("keep me\n")
    code, output = _dac_build(project, dist)
    assert code == 1
    assert "splunk/my-notes.txt" in output
    assert (dist / "splunk" / "my-notes.txt").read_text() == "keep me\n"


def test_a_build_from_before_the_file_list_is_still_replaced(project: Path, tmp_path: Path) -> None:
    dist = build(Project.at(project), tmp_path / "dist")
    manifest = json.loads((dist / "manifest.json").read_text())
    del manifest["files"]
    (dist / "manifest.json").write_text(json.dumps(manifest))
    assert _dac_build(project, dist)[0] == 0
    (dist / "README.txt").write_text("mine\n")  # not a name the older builds wrote
    code, output = _dac_build(project, dist)
    assert code == 1
    assert "README.txt" in output


def test_dist_gets_ordinary_permissions(project: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        dist = build(Project.at(project), tmp_path / "dist")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(dist.stat().st_mode) == 0o755
    assert stat.S_IMODE((dist / "manifest.json").stat().st_mode) == 0o644


def test_a_failed_build_leaves_the_previous_dist_and_no_debris(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = build(Project.at(project), tmp_path / "dist")
    before = _snapshot(dist)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise DacError([])

    monkeypatch.setattr(build_module, "write_sigma", broken)
    with pytest.raises(DacError):
        build(Project.at(project), dist)
    assert _snapshot(dist) == before
    assert _debris(tmp_path) == []


def test_a_failed_swap_restores_the_previous_dist(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = build(Project.at(project), tmp_path / "dist")
    before = _snapshot(dist)
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if ".building-" in self.name:
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(DacError, match="cannot replace the output folder"):
        build(Project.at(project), dist)
    assert _snapshot(dist) == before
    assert _debris(tmp_path) == []
