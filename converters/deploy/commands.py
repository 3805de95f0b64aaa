"""`dac deploy splunk|elastic` and `dac verify splunk|elastic`.

Exit status: 0 success (verify: no drift); 1 a change failed or was not confirmed (verify:
drift found), or an unexpected error (its traceback printed, secrets masked); 2 usage,
configuration or dist/ problem, nothing sent; 3 the target could not be read (unreachable,
refused, too slow, an answer too large or unusable), nothing written."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from converters.cli_options import dist_option, option
from converters.console import Console
from converters.deploy import config
from converters.deploy.dist import DistError, read_elastic, read_splunk
from converters.deploy.engine import Target, TargetError, run
from converters.deploy.kibana import KibanaTarget
from converters.deploy.redact import Redactor
from converters.deploy.render import progress, safe, show, show_json
from converters.deploy.report import Report
from converters.deploy.splunk import SplunkTarget
from converters.textsafe import visible

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

_DIST = dist_option(
    "--dist",
    "dist",
    help="The built output to deploy (what `make build` wrote).  [default: dist/ of the "
    "repository around the working folder, else ./dist]",
)
_CONFIG = option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"TOML settings file.  [default: ${config.CONFIG_ENV}, else none]",
)
_JSON = option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
_DRY_RUN = option(
    "--dry-run", is_flag=True, help="Print the plan (create, update, delete...); write nothing."
)
_PRUNE = option(
    "--prune",
    is_flag=True,
    help="Delete what this package deployed earlier and no longer ships (its marker decides).",
)
_APP = option("--app", default=None, help="Splunk app.  [default: dac_t1585]")
_OWNER = option("--owner", default=None, help="Splunk owner.  [default: nobody]")
_SPACE = option("--space", default=None, help="Kibana space.  [default: default]")
_ENRICHMENT = option(
    "--enrichment/--no-enrichment",
    default=None,
    help="Also the disposable-domain enrichment through Elasticsearch.  "
    "[default: when DAC_ELASTICSEARCH_URL is set]",
)


def _stdout() -> Console:
    # Unbounded in CI logs: rule names and reasons stay on one line (converters.console).
    return Console()


def _stderr() -> Console:
    return Console(stderr=True)


def _execute(make: Callable[[Redactor], Target], mode: str, prune: bool, as_json: bool) -> None:
    redact = Redactor()
    out, err = _stdout(), _stderr()
    try:
        target = make(redact)
    except (config.ConfigError, DistError, TargetError) as exc:
        err.print(Text(f"error: {safe(str(exc), redact)}", style="bold red"))
        sys.exit(EXIT_USAGE)
    start, stop = progress(err, enabled=not as_json and mode == "deploy", redact=redact)
    try:
        report = run(target, mode, prune=prune, start=start)
    except Exception:
        # A bug, not a target's answer (those are reported): the traceback helps, but it may
        # quote an answer, so it is masked and escaped like everything else printed.
        stop()
        trace = redact(traceback.format_exc())
        err.print(Text(visible(trace, multiline=True), style="red"), soft_wrap=True)
        sys.exit(EXIT_FAILED)
    finally:
        stop()
        target.close()
    (show_json if as_json else show)(report, out, redact)
    sys.exit(_exit_code(report))


def _exit_code(report: Report) -> int:
    if report.ok:
        return EXIT_OK
    # No items: reading the target failed before any plan existed, so nothing was written.
    return EXIT_UNREACHABLE if report.errors and not report.items else EXIT_FAILED


def _splunk(
    dist: Path, config_path: Path | None, app: str | None, owner: str | None
) -> Callable[[Redactor], Target]:
    def make(redact: Redactor) -> Target:
        settings = config.splunk_settings(config_path, {"app": app, "owner": owner})
        return SplunkTarget(settings, read_splunk(dist), redact)

    return make


def _elastic(
    dist: Path, config_path: Path | None, space: str | None, enrichment: bool | None
) -> Callable[[Redactor], Target]:
    def make(redact: Redactor) -> Target:
        settings = config.elastic_settings(config_path, {"space": space})
        wanted = bool(settings.elasticsearch_url) if enrichment is None else enrichment
        return KibanaTarget(settings, read_elastic(dist), redact, enrichment=wanted)

    return make


@click.group()
def deploy() -> None:
    """Ship dist/ to a SIEM over its REST API: create what is missing, update what differs,
    leave unchanged and customer-tuned objects alone.

    \b
    Settings come from environment variables or a TOML file (--config):
      splunk:  DAC_SPLUNK_URL, DAC_SPLUNK_TOKEN, DAC_SPLUNK_APP, DAC_SPLUNK_OWNER,
               DAC_SPLUNK_SHARING, DAC_SPLUNK_VERIFY_TLS, DAC_SPLUNK_CA_BUNDLE
      elastic: DAC_KIBANA_URL, DAC_ELASTIC_API_KEY, DAC_KIBANA_SPACE, DAC_ELASTICSEARCH_URL,
               DAC_ELASTICSEARCH_API_KEY, DAC_ELASTIC_VERIFY_TLS, DAC_ELASTIC_CA_BUNDLE
      both:    DAC_DEPLOY_TIMEOUT (seconds per attempt, in total), DAC_DEPLOY_RETRIES,
               DAC_DEPLOY_BACKOFF, DAC_DEPLOY_MAX_BACKOFF, DAC_DEPLOY_MAX_RESPONSE_BYTES

    Exit status: 0 deployed, 1 a change failed (the report says which), 2 configuration or
    dist/ problem (nothing sent), 3 the target could not be read (nothing written).
    """


@deploy.command("splunk")
@_DIST
@_CONFIG
@_APP
@_OWNER
@_DRY_RUN
@_PRUNE
@_JSON
def deploy_splunk(**options: Any) -> None:
    """Saved searches, macros, lookup definition and lookup file of the Splunk app.
    Data-source and `_filter` macros are only created, never overwritten."""
    make = _splunk(options["dist"], options["config_path"], options["app"], options["owner"])
    mode = "dry-run" if options["dry_run"] else "deploy"
    _execute(make, mode, options["prune"], options["as_json"])


@deploy.command("elastic")
@_DIST
@_CONFIG
@_SPACE
@_ENRICHMENT
@_DRY_RUN
@_PRUNE
@_JSON
def deploy_elastic(**options: Any) -> None:
    """Kibana detection rules (imported, overwritten by rule_id; exceptions, actions and the
    enabled state are kept), and the enrichment index, policy and pipeline."""
    make = _elastic(
        options["dist"], options["config_path"], options["space"], options["enrichment"]
    )
    mode = "dry-run" if options["dry_run"] else "deploy"
    _execute(make, mode, options["prune"], options["as_json"])


@click.group()
def verify() -> None:
    """Compare what is deployed with dist/ and print the drift.

    Exit status: 0 no drift, 1 drift, 2 configuration or dist/ problem, 3 the target could
    not be read.
    """


@verify.command("splunk")
@_DIST
@_CONFIG
@_APP
@_OWNER
@_JSON
def verify_splunk(**options: Any) -> None:
    """Drift of the Splunk app; customer-tuned macros are not drift."""
    make = _splunk(options["dist"], options["config_path"], options["app"], options["owner"])
    _execute(make, "verify", False, options["as_json"])


@verify.command("elastic")
@_DIST
@_CONFIG
@_SPACE
@_ENRICHMENT
@_JSON
def verify_elastic(**options: Any) -> None:
    """Drift of the Kibana rules (and the enrichment when Elasticsearch is configured)."""
    make = _elastic(
        options["dist"], options["config_path"], options["space"], options["enrichment"]
    )
    _execute(make, "verify", False, options["as_json"])
