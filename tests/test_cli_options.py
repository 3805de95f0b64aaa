"""Every `dac` option is either repeatable, and each occurrence counts, or given once: click
would keep the last of a repeated option and drop the others without a word."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from converters.cli import main
from tests.timelines import add_user

REPO = Path(__file__).resolve().parent.parent
LOG = REPO / "examples" / "m365_management_activity.json"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(main)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _occurrences(option: click.Option) -> list[list[str]]:
    """Two occurrences of ``option``, each with a value its type accepts."""
    if option.is_flag:
        names = [*option.opts, *option.secondary_opts]
        return [[names[0]], [names[-1]]]
    if isinstance(option.type, click.Choice):
        value = str(option.type.choices[0])
    elif isinstance(option.type, click.Path):
        value = "."
    else:
        value = "x"
    return [[option.opts[0], value], [option.opts[0], value]]


CASES = [
    pytest.param(path, option, id=f"{' '.join(path)} {option.opts[0]}")
    for path in COMMANDS
    for option in _command(path).params
    if isinstance(option, click.Option) and option.name not in ("help", "version")
    if not option.multiple
]


def test_every_command_is_covered() -> None:
    assert {" ".join(p) for p in COMMANDS} >= {
        "build", "validate", "lock", "hunt", "deploy splunk", "deploy elastic",
        "verify splunk", "verify elastic",
    }  # fmt: skip
    assert len(CASES) >= 20


@pytest.mark.parametrize(("path", "option"), CASES)
def test_a_repeated_single_value_option_is_a_usage_error(
    path: tuple[str, ...], option: click.Option, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _occurrences(option)
    arguments = [str(LOG)] if path == ("hunt",) else []
    # In an empty folder: were the repetition accepted, "." is no repository to write into.
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*path, *first, *second, *arguments])
    assert result.exit_code == 2, result.output
    assert option.opts[0] in result.output
    assert "may be given once, not 2 times" in result.output


def test_every_report_is_written(tmp_path: Path) -> None:
    log = tmp_path / "ual.json"
    log.write_text(json.dumps([add_user(0, "admin@contoso.com")]))
    html, md, again = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "copy.MD"
    args = ["hunt", "--root", str(REPO), str(log)]
    reports = ["--report", str(html), "--report", str(md), "--report", str(again)]
    result = CliRunner().invoke(main, [*args, *reports, "--report", str(md)])
    assert result.exit_code == 0, result.output
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert md.read_text().startswith("# Hunt report") and again.read_text() == md.read_text()
    assert result.output.count(f"report: {md}") == 1  # the same file named twice: once

    wrong = CliRunner().invoke(main, [*args, "--report", str(md), "--report", "r.txt"])
    assert wrong.exit_code == 2 and "r.txt: the report must end in .html or .md" in wrong.output
    clash = CliRunner().invoke(main, [*args, "--out", str(md), "--report", str(md)])
    assert clash.exit_code == 2 and "is also the --out file" in clash.output
