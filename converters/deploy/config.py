"""Deployment settings: command-line overrides, then environment variables, then an optional
TOML file, then defaults. Secrets come from the environment (or the file) and are wrapped so
that no repr, log line or error message can show them."""

from __future__ import annotations

import ipaddress
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CONFIG_ENV = "DAC_DEPLOY_CONFIG"


class ConfigError(Exception):
    """A setting is missing or invalid; nothing was sent anywhere."""


class Secret:
    """A token or API key. ``str()`` and ``repr()`` never show it; ``reveal()`` does."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Network:
    """Deadlines, size limits and retries shared by every request of a run."""

    timeout: float = 30.0  # seconds per attempt, in total: sending to the answer's last byte
    retries: int = 4  # extra attempts after the first one
    backoff: float = 1.0  # first wait; doubles each retry
    max_backoff: float = 30.0
    max_response_bytes: int = 64 << 20  # an answer beyond this is an error, not read on


@dataclass(frozen=True)
class Tls:
    verify: bool = True
    ca_bundle: Path | None = None

    def requests_verify(self) -> bool | str:
        if not self.verify:
            return False
        return str(self.ca_bundle) if self.ca_bundle else True


@dataclass(frozen=True)
class SplunkSettings:
    url: str
    token: Secret
    app: str
    owner: str
    sharing: str
    tls: Tls
    network: Network


@dataclass(frozen=True)
class ElasticSettings:
    kibana_url: str
    api_key: Secret
    space: str
    elasticsearch_url: str | None
    elasticsearch_api_key: Secret
    tls: Tls
    network: Network


# Setting name -> environment variable, per TOML table.
ENVIRONMENT: dict[str, dict[str, str]] = {
    "deploy": {
        "timeout": "DAC_DEPLOY_TIMEOUT",
        "retries": "DAC_DEPLOY_RETRIES",
        "backoff": "DAC_DEPLOY_BACKOFF",
        "max_backoff": "DAC_DEPLOY_MAX_BACKOFF",
        "max_response_bytes": "DAC_DEPLOY_MAX_RESPONSE_BYTES",
    },
    "splunk": {
        "url": "DAC_SPLUNK_URL",
        "token": "DAC_SPLUNK_TOKEN",
        "app": "DAC_SPLUNK_APP",
        "owner": "DAC_SPLUNK_OWNER",
        "sharing": "DAC_SPLUNK_SHARING",
        "verify_tls": "DAC_SPLUNK_VERIFY_TLS",
        "ca_bundle": "DAC_SPLUNK_CA_BUNDLE",
    },
    "elastic": {
        "kibana_url": "DAC_KIBANA_URL",
        "api_key": "DAC_ELASTIC_API_KEY",
        "space": "DAC_KIBANA_SPACE",
        "elasticsearch_url": "DAC_ELASTICSEARCH_URL",
        "elasticsearch_api_key": "DAC_ELASTICSEARCH_API_KEY",
        "verify_tls": "DAC_ELASTIC_VERIFY_TLS",
        "ca_bundle": "DAC_ELASTIC_CA_BUNDLE",
    },
}
SHARING = ("app", "global")


class _Source:
    """Looks a setting up: overrides, then the environment, then the TOML table."""

    def __init__(
        self,
        table: str,
        file: Mapping[str, Any],
        env: Mapping[str, str],
        overrides: Mapping[str, Any],
    ) -> None:
        self.table = table
        self.section = file.get(table, {})
        if not isinstance(self.section, dict):
            raise ConfigError(f"config file: [{table}] must be a table")
        unknown = sorted(set(self.section) - set(ENVIRONMENT[table]))
        if unknown:
            raise ConfigError(f"config file: unknown key(s) in [{table}]: {', '.join(unknown)}")
        self.env = env
        self.overrides = overrides

    def get(self, key: str) -> Any:
        if self.overrides.get(key) is not None:
            return self.overrides[key]
        variable = ENVIRONMENT[self.table][key]
        if self.env.get(variable, "") != "":
            return self.env[variable]
        return self.section.get(key)

    def where(self, key: str) -> str:
        return f"{ENVIRONMENT[self.table][key]} (or {key} in [{self.table}] of the config file)"

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.where(key)}: expected a non-empty string")
        return value.strip()

    def required(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise ConfigError(f"{self.where(key)} is not set")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{self.where(key)}: expected true or false")

    def number(self, key: str, default: float, minimum: float) -> float:
        value = self.get(key)
        if value is None:
            return default
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.where(key)}: expected a number") from None
        if not math.isfinite(number):
            raise ConfigError(f"{self.where(key)}: expected a finite number")
        if number < minimum:
            raise ConfigError(f"{self.where(key)}: must be at least {minimum}")
        return number

    def whole(self, key: str, default: int, minimum: int) -> int:
        number = self.number(key, default, minimum)
        if not float(number).is_integer():
            raise ConfigError(f"{self.where(key)}: expected a whole number")
        return int(number)


def _url(source: _Source, key: str, required: bool = True) -> str | None:
    value = source.required(key) if required else source.text(key)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"{source.where(key)}: expected an https:// URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        # A token sent in clear text over the network is a token given away.
        raise ConfigError(f"{source.where(key)}: plain http is only allowed to this machine")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{source.where(key)}: no query, fragment or credentials in the URL")
    return value.rstrip("/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls(source: _Source) -> Tls:
    ca = source.text("ca_bundle")
    path = Path(ca).expanduser() if ca else None
    if path is not None and not path.is_file():
        raise ConfigError(f"{source.where('ca_bundle')}: no such file: {path}")
    return Tls(verify=source.flag("verify_tls", True), ca_bundle=path)


def _network(file: Mapping[str, Any], env: Mapping[str, str]) -> Network:
    source = _Source("deploy", file, env, {})
    return Network(
        timeout=source.number("timeout", Network.timeout, 0.01),
        retries=int(source.number("retries", Network.retries, 0)),
        backoff=source.number("backoff", Network.backoff, 0),
        max_backoff=source.number("max_backoff", Network.max_backoff, 0),
        max_response_bytes=source.whole("max_response_bytes", Network.max_response_bytes, 1024),
    )


def read_file(path: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    unknown = sorted(set(data) - set(ENVIRONMENT))
    if unknown:
        raise ConfigError(f"config file {path}: unknown table(s): {', '.join(unknown)}")
    return data


def splunk_settings(
    path: Path | None, overrides: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> SplunkSettings:
    env = os.environ if env is None else env
    file = read_file(path, env)
    source = _Source("splunk", file, env, overrides)
    sharing = source.text("sharing", "global")
    if sharing not in SHARING:
        raise ConfigError(f"{source.where('sharing')}: expected one of {', '.join(SHARING)}")
    return SplunkSettings(
        url=str(_url(source, "url")),
        token=Secret(source.required("token")),
        app=str(source.text("app", "dac_t1585")),
        owner=str(source.text("owner", "nobody")),
        sharing=str(sharing),
        tls=_tls(source),
        network=_network(file, env),
    )


def elastic_settings(
    path: Path | None, overrides: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> ElasticSettings:
    env = os.environ if env is None else env
    file = read_file(path, env)
    source = _Source("elastic", file, env, overrides)
    api_key = source.required("api_key")
    return ElasticSettings(
        kibana_url=str(_url(source, "kibana_url")),
        api_key=Secret(api_key),
        space=str(source.text("space", "default")),
        elasticsearch_url=_url(source, "elasticsearch_url", required=False),
        elasticsearch_api_key=Secret(source.text("elasticsearch_api_key") or api_key),
        tls=_tls(source),
        network=_network(file, env),
    )
