"""`dac hunt` over logs written by an attacker: text from a log is data. Control characters,
terminal escape sequences, bidirectional overrides and rich markup reach neither the terminal
nor the reports as such; the JSONL alerts keep the exact value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.cli import main
from converters.textsafe import json_safe, visible
from tests.timelines import add_user

REPO = Path(__file__).resolve().parent.parent
# Colour, a window title (OSC ... BEL), an erased line, a right-to-left override, rich markup.
EVIL = (
    "adm\x1b[31min\x1b]0;title\x07\x1b[2K\u202emoc.evil[bold]x[/bold]\x9b2J@contoso.onmicrosoft.com"
)
# What must never be printed or written raw: ESC, BEL, the override, C1 CSI.
RAW = ("\x1b]", "\x1b[2K", "\x07", "\u202e", "\x9b")


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five accounts added by the hostile actor: the bulk rule groups by it (UserId)."""
    records = [add_user(minutes, EVIL) for minutes in (0, 5, 10, 15, 20)]
    records[0]["Id"] = "id-" + EVIL
    path = tmp_path_factory.mktemp("hostile") / "ual.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_textsafe_escapes_what_acts_and_keeps_what_shows() -> None:
    assert visible("a\x1b[31mb\x07\x7f\x85\u202e\u2066\u200f\u061c\u2028\ud800") == (
        "a\\x1b[31mb\\x07\\x7f\\x85\\u202e\\u2066\\u200f\\u061c\\u2028\\ud800"
    )
    assert visible("line\nnext\ttab\r") == "line\\nnext\\ttab\\r"
    assert visible("line\nnext\ttab\r", multiline=True) == "line\nnext\ttab\\r"
    assert visible("Zoë 東京 [bold]") == "Zoë 東京 [bold]"
    value = "x\x1b\x9b\u202e\ud800é\x7f"
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value
    assert all(ch not in text for ch in "\x1b\x9b\u202e\ud800\x7f") and "é" in text


def _check_files(out: Path, reports: list[Path]) -> None:
    for report in reports:
        text = report.read_text(encoding="utf-8")
        assert not any(raw in text for raw in RAW), report.name
        assert "\x1b" not in text, report.name
        assert "\\x1b]0;title\\x07" in text.replace("\\\\", "\\"), report.name
    raw = out.read_text(encoding="utf-8")
    assert not any(ch in raw for ch in "\x1b\x07\u202e\x9b")  # \u-escaped in the JSON text
    alerts = [json.loads(line) for line in raw.splitlines()]
    bulk = next(a for a in alerts if a["group"])
    # The engine groups case-insensitively (lower case); every other character is exact.
    assert bulk["group"] == {"UserId": EVIL.lower()}
    assert "id-" + EVIL in {e["id"] for a in alerts for e in a["evidence"]}
    # The playbook is text for people: its values are escaped.
    assert not any(raw in bulk["playbook"] for raw in RAW)


def test_in_process_nothing_raw_reaches_output_or_reports(log: Path, tmp_path: Path) -> None:
    out, md, html = tmp_path / "a.jsonl", tmp_path / "r.md", tmp_path / "r.html"
    args = ["hunt", "--root", str(REPO), str(log), "--out", str(out)]
    # The building block too: its alert shows the actor exactly (the group is lower case).
    rules = ["--rule", "m365_user_added", "--rule", "m365_bulk_user_creation"]
    result = CliRunner().invoke(main, [*args, *rules, "--report", str(md), "--report", str(html)])
    assert result.exit_code == 0, result.output
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and not any(raw in stream for raw in RAW)
    shown = result.stdout.replace("\n", "")
    # Shown, escaped, and rich markup printed as written.
    assert "\\x1b]0;title\\x07\\x1b[2K\\u202emoc.evil[bold]x[/bold]\\x9b2J" in shown
    _check_files(out, [md, html])


def test_on_a_colour_terminal_nothing_raw_reaches_it(log: Path, tmp_path: Path) -> None:
    """The installed `dac` in a process of its own, with colour forced on: the rich console
    writes its own escape sequences then, and none from the log."""
    out, md, html = tmp_path / "a.jsonl", tmp_path / "r.md", tmp_path / "r.html"
    dac = Path(sys.executable).parent / "dac"
    env = {**os.environ, "FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "250"}
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        [dac, "hunt", "--root", REPO, log, "--out", out, "--report", md, "--report", html],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert "\x1b[1m" in stdout  # the terminal path: rich's own styling is there
    for stream in (stdout, stderr):
        assert not any(raw in stream for raw in RAW)
    assert "\\x1b]0;title\\x07" in stdout and "[bold]x[/bold]" in stdout
    _check_files(out, [md, html])


def test_every_escaped_character_is_unprintable() -> None:
    """visible() returns printable text as it is: sound only while every character it
    escapes is one str.isprintable() refuses."""
    from converters.textsafe import _MULTI_LINE, _ONE_LINE

    assert all(not chr(c).isprintable() for c in [*_ONE_LINE, *_MULTI_LINE])


@settings(max_examples=300, deadline=None)
@given(st.text(), st.booleans())
def test_visible_is_the_translation(text: str, multiline: bool) -> None:
    from converters.textsafe import _MULTI_LINE, _ONE_LINE

    assert visible(text, multiline) == text.translate(_MULTI_LINE if multiline else _ONE_LINE)


def _activity(
    application: str, time: str, actor: str, event: dict[str, object], ip: str = "203.0.113.9"
) -> str:
    record = {
        "kind": "admin#reports#activity",
        "id": {"time": time, "uniqueQualifier": "-7", "applicationName": application},
        "actor": {"callerType": "USER", "email": actor},
        "ipAddress": ip,
        "events": [event],
    }
    # A lone surrogate as JSON writes it: an escape that pairs with nothing.
    return json.dumps(record).replace("@@", "\\ud800@")


def test_a_lone_surrogate_is_hunted_as_u_fffd_and_said(tmp_path: Path) -> None:
    """SQLite stores UTF-8 text only: a value holding a lone surrogate stopped the hunt with
    UnicodeEncodeError (a loaded row, or a held sign-in). It is now stored with U+FFFD in its
    place, the record still meets the rules, and the hunt names the file and the count: here
    a creation, and the created account's sign-in, held back and then released by its join
    (a held row never released is never stored)."""
    create = {
        "type": "USER_SETTINGS",
        "name": "CREATE_USER",
        "parameters": [{"name": "USER_EMAIL", "value": "k.wu@example.com"}],
    }
    sign_in = {"type": "login", "name": "login_success", "parameters": []}
    log = tmp_path / "gws.ndjson"
    log.write_text(
        _activity("admin", "2026-11-20T09:00:00.000Z", "adm@@example.com", create)
        + "\n"
        + _activity("login", "2026-11-20T10:00:00.000Z", "k.wu@example.com", sign_in, "203.0@@.1")
        + "\n"
    )
    out = tmp_path / "alerts.jsonl"
    rules = ["--rule", "gws_user_created", "--rule", "gws_user_never_signed_in"]
    runner = CliRunner()
    done = runner.invoke(main, ["hunt", str(log), "--out", str(out), "--json", *rules])
    assert done.exit_code == 0, done.output
    [file] = json.loads(done.output)["files"]
    assert file["repaired"] == 2 and file["skipped"] == 0
    [alert] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert alert["distinct"]["actor.email"] == ["adm\ufffd@example.com"]
    said = runner.invoke(main, ["hunt", str(log), *rules])
    assert "2 row(s) held a lone surrogate" in said.output
