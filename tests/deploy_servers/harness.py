"""Running `dac deploy` / `dac verify` in-process against the fakes, with a fast retry policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from converters.cli import main
from converters.deploy import config
from tests.deploy_servers.elasticsearch import FakeElasticsearch
from tests.deploy_servers.kibana import FakeKibana
from tests.deploy_servers.splunk import FakeSplunk

# Distinctive values, so that a leak is found by a plain substring search.
SPLUNK_TOKEN = "splunk-token-SECRET-5f0c1d9e"
KIBANA_KEY = "kibana-apikey-SECRET-a7b3c2d1"
ES_KEY = "es-apikey-SECRET-77e1f0aa"
SECRETS = (SPLUNK_TOKEN, KIBANA_KEY, ES_KEY)
# Fast and still real: 3 retries, 10 ms first backoff, one second per request.
FAST = {
    "DAC_DEPLOY_TIMEOUT": "1.0",
    "DAC_DEPLOY_RETRIES": "3",
    "DAC_DEPLOY_BACKOFF": "0.01",
    "DAC_DEPLOY_MAX_BACKOFF": "0.05",
}


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    def summary(self) -> dict[str, int]:
        data: dict[str, int] = self.json["summary"]
        return data

    def items(self, **where: str) -> list[dict[str, Any]]:
        return [i for i in self.json["items"] if all(i.get(k) == v for k, v in where.items())]

    def assert_no_secret(self) -> None:
        for secret in SECRETS:
            assert secret not in self.stdout, f"secret in stdout: {self.stdout}"
            assert secret not in self.stderr, f"secret in stderr: {self.stderr}"


def environment(
    splunk: FakeSplunk | None = None,
    kibana: FakeKibana | None = None,
    es: FakeElasticsearch | None = None,
    **extra: str | None,
) -> dict[str, str | None]:
    """Every DAC_* setting spelt out (None unsets it), so the machine's own cannot leak in."""
    env: dict[str, str | None] = {v: None for t in config.ENVIRONMENT.values() for v in t.values()}
    env[config.CONFIG_ENV] = None
    env.update(FAST)
    if splunk:
        env.update(DAC_SPLUNK_URL=splunk.url, DAC_SPLUNK_TOKEN=SPLUNK_TOKEN)
    if kibana:
        env.update(DAC_KIBANA_URL=kibana.url, DAC_ELASTIC_API_KEY=KIBANA_KEY)
    if es:
        env.update(DAC_ELASTICSEARCH_URL=es.url, DAC_ELASTICSEARCH_API_KEY=ES_KEY)
    env.update(extra)
    return env


def dac(args: list[str], env: dict[str, str | None]) -> Run:
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    run = Run(result.exit_code, result.stdout, result.stderr)
    run.assert_no_secret()  # every run, whatever happened
    return run


@contextmanager
def servers() -> Iterator[tuple[FakeSplunk, FakeKibana, FakeElasticsearch]]:
    """All three fakes, started on 127.0.0.1 and always shut down."""
    with ExitStack() as stack:
        splunk = stack.enter_context(FakeSplunk(SPLUNK_TOKEN))
        kibana = stack.enter_context(FakeKibana(KIBANA_KEY, spaces=("default", "soc")))
        es = stack.enter_context(FakeElasticsearch(ES_KEY))
        yield splunk, kibana, es


def dist_args(dist: Path, *more: str) -> list[str]:
    return ["--dist", str(dist), *more]
