"""`dac deploy` / `dac verify` against servers that misbehave on purpose: a secret echoed where
a message is cut, an answer that trickles in, an answer too large, malformed JSON or an HTML
page with 200, control characters in what a server says."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from converters.build import Project, build
from converters.deploy.answers import Reply
from converters.deploy.config import Secret
from converters.deploy.enrichment import _bulk_error
from converters.deploy.redact import Redactor
from tests.deploy_servers.base import FakeServer
from tests.deploy_servers.harness import Run, dac, dist_args, environment
from tests.deploy_servers.kibana import FakeKibana
from tests.deploy_servers.splunk import FakeSplunk

ROOT = Path(__file__).resolve().parent.parent
# Letters that ordinary output does not hold four in a row of.
TOKEN = "QzXjWq7KvZpJ3xQmYk9RfLhBtVn2Gw"
PREFIX = len("injected failure ") + len(" for Bearer ")  # where the fake puts the padding
SHOWN = 300  # characters of a server's message shown (converters.deploy.answers)


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = build(Project.at(ROOT), tmp_path_factory.mktemp("deploy-hostile") / "dist")
    # Every run reads dist/ again, and these tests run hundreds: a short domain list (two
    # entries) keeps that quick; what the servers answer is what is tested here.
    for path, keep in (
        (built / "elastic" / "enrichment" / "disposable_domains.ndjson", 4),
        (built / "splunk" / "dac_t1585" / "lookups" / "dac_disposable_email_domains.csv", 3),
    ):
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(lines[:keep]) + "\n", encoding="utf-8")
    return built


def pieces(secret: str) -> list[str]:
    """Every 4-character piece: any leak of 4 or more characters contains one."""
    return [secret[i : i + 4] for i in range(len(secret) - 3)]


def assert_no_piece(run: Run, secret: str = TOKEN) -> None:
    for piece in pieces(secret):
        assert piece not in run.stdout and piece not in run.stderr, (piece, run.stdout)


def _servers(target: str, secret: str) -> tuple[FakeServer, dict[str, str | None]]:
    if target == "splunk":
        splunk = FakeSplunk(secret)
        return splunk, environment(splunk=splunk, DAC_SPLUNK_TOKEN=secret)
    kibana = FakeKibana(secret)
    return kibana, environment(kibana=kibana, DAC_ELASTIC_API_KEY=secret)


# -- secrets: masked before anything is cut ------------------------------------------------


@pytest.mark.parametrize("target", ["splunk", "elastic"])
def test_a_secret_echoed_at_the_cut_is_masked_whole(dist: Path, target: str) -> None:
    """The server's message holds the Authorization header at every offset around the cut."""
    server, env = _servers(target, TOKEN)
    with server:
        for offset in range(SHOWN - 50, SHOWN + 20):
            for options in ([], ["--json"]):
                pad = offset - PREFIX
                server.inject("*", "", "status", status=400, echo_auth=True, echo_pad=pad)
                run = dac(["deploy", target, *dist_args(dist, *options)], env)
                assert run.exit_code == 3, run.stdout
                assert "injected failure ..." in run.stdout.replace("\n", "")
                assert_no_piece(run)
        assert server.writes() == []


def test_a_secret_in_import_errors_is_masked_before_the_cut(dist: Path) -> None:
    """Kibana's per-rule import errors: one rule per offset, in one answer."""
    rule_ids = [
        json.loads(line)["rule_id"]
        for line in (dist / "elastic" / "rules.ndjson").read_text().splitlines()
    ]
    errors = [
        {"rule_id": rule_id, "error": {"status_code": 400, "message": "." * n + "ApiKey " + TOKEN}}
        for n, rule_id in zip(range(SHOWN - 30, SHOWN + 10), rule_ids, strict=False)
    ]
    answer = {"success": False, "success_count": 0, "rules_count": len(errors), "errors": errors}
    server, env = _servers("elastic", TOKEN)
    with server:
        server.inject("POST", "_import", "raw", status=200, body=json.dumps(answer).encode())
        run = dac(["deploy", "elastic", *dist_args(dist, "--json")], env)
    assert run.exit_code == 1
    failed = [i for i in run.json["items"] if i["error"].startswith("import: HTTP 400")]
    assert len(failed) == len(errors)
    assert_no_piece(run)


def test_redactor_masks_encoded_spellings_and_what_a_server_cut_left() -> None:
    redact = Redactor([Secret("tok/" + TOKEN)])
    for text in (
        f"Bearer tok/{TOKEN}",
        f"Bearer tok\\/{TOKEN}",  # JSON may escape the slash
        f"Bearer tok%2F{TOKEN}",  # percent-encoded
        f"Bearer tok/{TOKEN[:10]}...",  # the server cut its own message
        f"...{TOKEN[-12:]} trailing",  # or kept the end
    ):
        masked = redact(text)
        assert "***" in masked and not any(p in masked for p in pieces(TOKEN)), masked
    assert redact("tok/ a word") == "tok/ a word"  # too short to be a secret's remains
    reply = Reply(500, {"message": "x" * 295 + " Bearer tok/" + TOKEN}, {})
    assert not any(p in reply.message(redact) for p in pieces(TOKEN))
    for pad in range(180, 210):  # Elasticsearch bulk errors are cut at 200
        body = {"items": [{"index": {"error": {"reason": "." * pad + "tok/" + TOKEN}}}]}
        assert not any(p in _bulk_error(body, redact) for p in pieces(TOKEN))


# -- deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["splunk", "elastic"])
@pytest.mark.parametrize("head", [False, True], ids=["status-line", "body"])
def test_a_trickling_server_is_cut_off_at_the_deadline(dist: Path, target: str, head: bool) -> None:
    """One byte every 0.3 s: every read gets something, so only a total deadline ends it."""
    server, env = _servers(target, TOKEN)
    env.update(DAC_DEPLOY_TIMEOUT="1", DAC_DEPLOY_RETRIES="0")
    with server:
        server.inject("*", "", "trickle", delay=0.3, head=head, times=100)
        started = time.monotonic()
        run = dac(["deploy", target, *dist_args(dist)], env)
        elapsed = time.monotonic() - started
    assert elapsed < 1 + 3, elapsed
    assert run.exit_code == 3
    errors = [line for line in run.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stdout
    assert "no complete answer within 1 s (DAC_DEPLOY_TIMEOUT), 1 attempt(s)" in errors[0]
    assert server.writes() == []


# -- answers that cannot be used -------------------------------------------------------------

MALFORMED: dict[str, tuple[dict[str, Any], str]] = {
    "too large": ({"kind": "flood", "size": 4 << 20}, "the answer is larger than 65536 bytes"),
    "too large, said so": (
        {"kind": "flood", "size": 4 << 20, "declare": True},
        "the answer is larger than 65536 bytes",
    ),
    "malformed JSON": (
        {"kind": "raw", "status": 200, "body": b'{"broken": '},
        "HTTP 200: expected a JSON ",
    ),
    "HTML page": (
        {
            "kind": "raw",
            "status": 200,
            "body": b"<html><body><form>Sign in</form></body></html>",
            "content_type": "text/html; charset=utf-8",
        },
        "got an HTML page (text/html; charset=utf-8, 46 bytes)",
    ),
}


@pytest.mark.parametrize("target", ["splunk", "elastic"])
@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize("command", ["deploy", "verify"])
def test_an_unusable_answer_means_the_target_could_not_be_read(
    dist: Path, target: str, case: str, command: str
) -> None:
    fault, reason = MALFORMED[case]
    server, env = _servers(target, TOKEN)
    env["DAC_DEPLOY_MAX_RESPONSE_BYTES"] = "65536"
    with server:
        server.inject("GET", "", times=1000, **fault)
        run = dac([command, target, *dist_args(dist)], env)
        assert server.writes() == []
    assert run.exit_code == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "AssertionError" not in run.stdout + run.stderr
    errors = [line for line in run.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stdout
    assert errors[0].startswith("error: reading the target: GET /"), errors[0]
    assert reason in errors[0]


def test_a_list_without_entries_is_not_an_empty_target(dist: Path) -> None:
    """A JSON object of another shape from Splunk's saved searches: not 'nothing deployed'."""
    server, env = _servers("splunk", TOKEN)
    assert isinstance(server, FakeSplunk)
    server.apps.add("dac_t1585")
    with server:
        server.inject("GET", "saved/searches$", "raw", status=200, body=b'{"entry": "?"}')
        run = dac(["deploy", "splunk", *dist_args(dist)], env)
        assert server.writes() == []
    assert run.exit_code == 3
    assert "saved/searches: the answer has no `entry` list" in run.stdout


def test_the_size_limit_is_a_setting(tmp_path: Path) -> None:
    from converters.deploy import config

    base = {"DAC_SPLUNK_URL": "https://s", "DAC_SPLUNK_TOKEN": "t"}
    default = config.splunk_settings(None, {}, base).network.max_response_bytes
    assert default == 64 << 20
    env = {**base, "DAC_DEPLOY_MAX_RESPONSE_BYTES": "1048576"}
    assert config.splunk_settings(None, {}, env).network.max_response_bytes == 1 << 20
    file = tmp_path / "deploy.toml"
    file.write_text("[deploy]\nmax_response_bytes = 2048\n", encoding="utf-8")
    assert config.splunk_settings(file, {}, base).network.max_response_bytes == 2048
    for bad, message in (("lots", "a number"), ("10", "at least 1024"), ("2048.5", "whole")):
        env = {**base, "DAC_DEPLOY_MAX_RESPONSE_BYTES": bad}
        with pytest.raises(config.ConfigError, match=message):
            config.splunk_settings(None, {}, env)


# -- what a server says is data ------------------------------------------------------------

SAYS = "no\x1b]0;pwned\x07 \x1b[2K[bold red]x[/bold red] \u202eevil\x9b2J :smile:"


@pytest.mark.parametrize("target", ["splunk", "elastic"])
def test_control_characters_from_a_server_are_escaped(dist: Path, target: str) -> None:
    server, env = _servers(target, TOKEN)
    body = {"messages": [{"type": "ERROR", "text": SAYS}]} if target == "splunk" else {}
    body = body or {"message": SAYS, "status_code": 400}
    with server:
        server.inject("*", "", "raw", status=400, body=json.dumps(body).encode(), times=10)
        table = dac(["deploy", target, *dist_args(dist)], env)
        document = dac(["deploy", target, *dist_args(dist, "--json")], env)
    escaped = "no\\x1b]0;pwned\\x07 \\x1b[2K[bold red]x[/bold red] \\u202eevil\\x9b2J :smile:"
    for run in (table, document):
        assert run.exit_code == 3
        for raw in ("\x1b", "\x07", "\u202e", "\x9b"):
            assert raw not in run.stdout and raw not in run.stderr
    assert escaped in table.stdout.replace("\n", "")
    assert escaped in document.json["errors"][0]
