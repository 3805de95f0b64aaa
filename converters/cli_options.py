"""Options every `dac` command that reads the repository takes."""

from __future__ import annotations

from pathlib import Path

import click

root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Repository root (holds playbooks/, lists/ and versions.lock.json).",
)
rules_option = click.option(
    "--rules",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of Sigma rules.  [default: ROOT/sigma_rules]",
)
