"""Deploy plumbing: settings, the HTTP client's retries, dist/ reading, secrets and exit codes."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import addonfactory_splunk_conf_parser_lib as conf_parser
import pytest
import yaml
from rich.console import Console

from converters.build import Project, build
from converters.deploy import config
from converters.deploy.answers import HttpError
from converters.deploy.compare import conf_diff, conf_text, contains
from converters.deploy.deadline import DeadlineAdapter
from converters.deploy.dist import DistError, parse_conf, read_elastic
from converters.deploy.http import Client
from converters.deploy.redact import Redactor
from converters.deploy.render import progress
from converters.deploy.report import Action, Item
from tests.deploy_servers.harness import (
    KIBANA_KEY,
    SPLUNK_TOKEN,
    dac,
    dist_args,
    environment,
)
from tests.deploy_servers.kibana import FakeKibana
from tests.deploy_servers.splunk import FakeSplunk

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(Project.at(ROOT), tmp_path_factory.mktemp("deploy-core") / "dist")


# -- settings -------------------------------------------------------------------------------


def test_settings_precedence_options_then_environment_then_file(tmp_path: Path) -> None:
    file = tmp_path / "deploy.toml"
    file.write_text(
        '[splunk]\nurl = "https://file.example:8089"\napp = "from_file"\nowner = "svc"\n'
        "verify_tls = false\n[deploy]\nretries = 7\n",
        encoding="utf-8",
    )
    env = {"DAC_SPLUNK_TOKEN": "t0k", "DAC_SPLUNK_APP": "from_env"}
    settings = config.splunk_settings(file, {"app": None, "owner": "cli"}, env)
    assert settings.url == "https://file.example:8089"
    assert (settings.app, settings.owner, settings.sharing) == ("from_env", "cli", "global")
    assert settings.tls.requests_verify() is False
    assert settings.network.retries == 7
    assert "t0k" not in repr(settings) and settings.token.reveal() == "t0k"

    elastic = config.elastic_settings(
        None,
        {"space": None},
        {
            "DAC_KIBANA_URL": "https://kb.example/",
            "DAC_ELASTIC_API_KEY": "k",
            "DAC_DEPLOY_CONFIG": str(file),
        },
    )
    assert (elastic.kibana_url, elastic.space, elastic.elasticsearch_url) == (
        "https://kb.example",
        "default",
        None,
    )
    assert elastic.tls.verify is True  # on unless turned off
    assert elastic.elasticsearch_api_key.reveal() == "k"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DAC_SPLUNK_URL"),
        ({"DAC_SPLUNK_URL": "https://s:8089"}, "DAC_SPLUNK_TOKEN"),
        ({"DAC_SPLUNK_URL": "http://splunk.example:8089", "DAC_SPLUNK_TOKEN": "t"}, "plain http"),
        ({"DAC_SPLUNK_URL": "https://s:8089?x=1", "DAC_SPLUNK_TOKEN": "t"}, "no query"),
        (
            {"DAC_SPLUNK_URL": "https://s", "DAC_SPLUNK_TOKEN": "t", "DAC_SPLUNK_SHARING": "user"},
            "sharing",
        ),
        (
            {
                "DAC_SPLUNK_URL": "https://s",
                "DAC_SPLUNK_TOKEN": "t",
                "DAC_SPLUNK_VERIFY_TLS": "maybe",
            },
            "true or false",
        ),
        (
            {
                "DAC_SPLUNK_URL": "https://s",
                "DAC_SPLUNK_TOKEN": "t",
                "DAC_SPLUNK_CA_BUNDLE": "/nope.pem",
            },
            "no such file",
        ),
        (
            {"DAC_SPLUNK_URL": "https://s", "DAC_SPLUNK_TOKEN": "t", "DAC_DEPLOY_RETRIES": "x"},
            "number",
        ),
    ],
)
def test_bad_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(config.ConfigError, match=message):
        config.splunk_settings(None, {}, env)


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "deploy.toml"
    file.write_text('[splunk]\nurl = "https://s"\ntokn = "typo"\n', encoding="utf-8")
    with pytest.raises(config.ConfigError, match="unknown key"):
        config.splunk_settings(file, {}, {})
    file.write_text("[splunky]\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="unknown table"):
        config.splunk_settings(file, {}, {})


# -- HTTP client ----------------------------------------------------------------------------


def _client(url: str, sleeps: list[float], retries: int = 3) -> Client:
    network = config.Network(timeout=0.5, retries=retries, backoff=0.1, max_backoff=0.3)
    redact = Redactor([config.Secret(SPLUNK_TOKEN)])
    headers = {"Authorization": f"Bearer {SPLUNK_TOKEN}"}
    return Client(url, headers, True, network, redact, sleep=sleeps.append)


def test_client_backs_off_exponentially_and_honours_retry_after() -> None:
    with FakeSplunk(SPLUNK_TOKEN) as splunk:
        splunk.inject("GET", "apps", "status", status=503, times=2)
        splunk.inject("GET", "apps", "status", status=429, retry_after="0.25")
        splunk.inject("GET", "apps", "drop")
        sleeps: list[float] = []
        client = _client(splunk.url, sleeps, retries=4)
        reply = client.request("GET", "/services/apps/local/search", params={"output_mode": "json"})
        assert reply.status == 200
        assert sleeps == [0.1, 0.2, 0.25, 0.3]  # doubling, Retry-After, capped
        assert client.attempts == 5


def test_client_gives_up_with_a_message_free_of_secrets() -> None:
    with FakeSplunk(SPLUNK_TOKEN) as splunk:
        splunk.inject("*", "", "status", status=500, times=10, echo_auth=True)
        client = _client(splunk.url, [])
        with pytest.raises(HttpError) as raised:
            client.request("GET", "/services/apps/local/search")
        message = str(raised.value)
        assert "HTTP 500 after 4 attempt(s)" in message and "Bearer ***" in message
        assert SPLUNK_TOKEN not in message
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with pytest.raises(HttpError, match=r"no answer after 4 attempt\(s\) \(ConnectionError\)"):
        _client(f"http://127.0.0.1:{port}", []).request("GET", "/")


def test_the_configured_tls_setting_wins_over_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """requests lets REQUESTS_CA_BUNDLE replace a session's own `verify`: a configured CA
    bundle was ignored and DAC_*_VERIFY_TLS=false turned back on."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/somebody-elses-ca.pem")
    used: list[object] = []
    send = DeadlineAdapter.send

    def recording(self: DeadlineAdapter, request: Any, **kwargs: Any) -> Any:
        used.append(kwargs["verify"])
        return send(self, request, **kwargs)

    monkeypatch.setattr(DeadlineAdapter, "send", recording)
    network = config.Network(timeout=1, retries=0)
    with FakeSplunk(SPLUNK_TOKEN) as splunk:
        for verify in (False, "/etc/dac-ca.pem"):
            client = Client(splunk.url, {}, verify, network, Redactor())
            client.request("GET", "/services/apps/local/search", params={"output_mode": "json"})
    assert used == [False, "/etc/dac-ca.pem"]


# -- dist/ and comparisons ------------------------------------------------------------------


def test_conf_reader_agrees_with_splunks_parser(dist: Path) -> None:
    for name in ("savedsearches.conf", "macros.conf", "transforms.conf", "app.conf"):
        path = dist / "splunk" / "dac_t1585" / "default" / name
        parser = conf_parser.TABConfigParser()
        parser.read_string(path.read_text(encoding="utf-8"))
        theirs = {
            s: {k: v.replace("\\\n", "\n") for k, v in parser.items(s) if k != "__name__"}
            for s in parser.sections()
        }
        ours = {stanza.name: stanza.settings for stanza in parse_conf(path)}
        assert ours == theirs, name


def test_reading_a_missing_or_partial_dist_fails_clearly(tmp_path: Path, dist: Path) -> None:
    with pytest.raises(DistError, match="run `make build`"):
        read_elastic(tmp_path)
    lines = (dist / "elastic" / "rules.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(read_elastic(dist).rules) == len(lines)
    run = dac(
        ["deploy", "splunk", *dist_args(tmp_path)],
        environment(DAC_SPLUNK_URL="https://s", DAC_SPLUNK_TOKEN=SPLUNK_TOKEN),
    )
    assert run.exit_code == 2 and "make build" in run.stderr


def test_comparisons_normalise_splunk_spellings_and_ignore_server_fields() -> None:
    assert [conf_text(v) for v in (True, False, 1, 0.0, "true", " x ", None)] == [
        "1",
        "0",
        "1",
        "0",
        "1",
        "x",
        "",
    ]
    assert conf_diff({"a": "1", "b": "x", "c": "y"}, {"a": True, "b": "x "}) == ["c"]
    assert contains({"a": [{"n": 1}]}, {"a": [{"n": 1, "ecs": True}], "id": "x"})
    assert not contains({"a": [1, 2]}, {"a": [1, 2, 3]})
    assert not contains({"flag": True}, {"flag": 1})


# -- secrets and exit codes -----------------------------------------------------------------


def test_no_secret_in_any_output_even_when_the_server_echoes_it(dist: Path) -> None:
    with FakeSplunk(SPLUNK_TOKEN) as splunk, FakeKibana(KIBANA_KEY) as kibana:
        splunk.inject("*", "", "status", status=500, times=1000, echo_auth=True)
        kibana.inject("*", "", "status", status=500, times=1000, echo_auth=True)
        for target, env in (
            ("splunk", environment(splunk=splunk)),
            ("elastic", environment(kibana=kibana)),
        ):
            for args in ([], ["--json"], ["--dry-run"]):
                run = dac(["deploy", target, *dist_args(dist, *args)], env)  # checks every run
                assert run.exit_code == 3
                assert "***" in run.stdout
            assert dac(["verify", target, *dist_args(dist)], env).exit_code == 3


def test_exit_codes_for_unreachable_unauthorised_and_misconfigured(dist: Path) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    down = environment(DAC_SPLUNK_URL=f"http://127.0.0.1:{port}", DAC_SPLUNK_TOKEN=SPLUNK_TOKEN)
    run = dac(["deploy", "splunk", *dist_args(dist, "--json")], down)
    assert run.exit_code == 3
    assert run.json["ok"] is False and "no answer after 4 attempt(s)" in run.json["errors"][0]

    with FakeKibana("another-key") as kibana:
        run = dac(["deploy", "elastic", *dist_args(dist)], environment(kibana=kibana))
        assert run.exit_code == 3 and "HTTP 401" in run.stdout
        assert kibana.writes() == []

    missing = environment(DAC_KIBANA_URL="https://kb.example")
    run = dac(["verify", "elastic", *dist_args(dist)], missing)
    assert run.exit_code == 2 and "DAC_ELASTIC_API_KEY" in run.stderr


def test_progress_display_counts_the_writes() -> None:
    out = io.StringIO()
    start, stop = progress(Console(file=out, force_terminal=True, width=100), enabled=True)
    advance = start(2)
    advance(Item("rule", "r1", Action.CREATE))
    advance(Item("rule", "r2", Action.UPDATE))
    stop()
    assert "2/2" in out.getvalue()


# -- CI -------------------------------------------------------------------------------------


def test_ci_workflow_uses_only_make_and_dac() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    commands = [
        line.strip()
        for job in workflow["jobs"].values()
        for step in job["steps"]
        for line in str(step.get("run", "")).splitlines()
        if line.strip()
    ]
    assert "make test" in commands and "make build" in commands
    assert any(c.startswith(".venv/bin/dac deploy splunk") for c in commands)
    assert any(c.startswith(".venv/bin/dac deploy elastic") for c in commands)
    assert all(c.startswith(("make ", ".venv/bin/dac ")) for c in commands), commands
    # What writes to a SIEM runs on main only; pull requests get the plan (--dry-run).
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            run = str(step.get("run", ""))
            if "dac deploy" in run and "--dry-run" not in run:
                assert "refs/heads/main" in str(job.get("if", "")), step
            if "--dry-run" in run:
                assert "pull_request" in str(step.get("if", "")), step
