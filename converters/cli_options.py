"""Options every `dac` command that reads the repository takes, and the option class every
`dac` option is declared with."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource


class OnceOption(click.Option):
    """An option that is either repeatable (``multiple=True``) or given at most once.

    Click keeps the last value of a repeated single-value option and drops the others
    silently (``--report a.html --report b.md`` wrote b.md only); a flag pair like
    ``--enrichment --no-enrichment`` is the same. Here the parser collects every occurrence,
    and more than one is a usage error (exit 2) that names the option."""

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        if self.multiple or self.count:
            super().add_to_parser(parser, ctx)
            return
        # Registered as repeatable for the parse only, so that no occurrence is lost.
        self.multiple = True
        try:
            super().add_to_parser(parser, ctx)
        finally:
            self.multiple = False

    def consume_value(self, ctx: click.Context, opts: Any) -> tuple[Any, ParameterSource]:
        value, source = super().consume_value(ctx, opts)
        if self.multiple or self.count or source is not ParameterSource.COMMANDLINE:
            return value, source
        if isinstance(value, list):
            if len(value) > 1:
                names = "/".join([*self.opts, *self.secondary_opts])
                raise click.BadOptionUsage(
                    str(self.name),
                    f"{names} may be given once, not {len(value)} times",
                    ctx,
                )
            value = value[0]
        return value, source


# Every `dac` option: click.option with repetition checked.
option = functools.partial(click.option, cls=OnceOption)

# What marks the repository root: found by walking up from the working folder.
ROOT_MARKERS = ("sigma_rules", "pyproject.toml")


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding sigma_rules/ and pyproject.toml."""
    for folder in (start, *start.parents):
        if (folder / ROOT_MARKERS[0]).is_dir() and (folder / ROOT_MARKERS[1]).is_file():
            return folder
    return None


def _root(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    if value is not None:
        return value
    here = Path.cwd()
    found = find_root(here)
    if found is None:
        raise click.UsageError(
            f"no dac repository (a folder holding {ROOT_MARKERS[0]}/ and {ROOT_MARKERS[1]}) "
            f"at or above {here}; run dac inside one or name it with --root",
            ctx,
        )
    # Relative to the working folder, so that problems print as paths an editor opens.
    return Path(os.path.relpath(found, here))


root_option = option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_root,
    help="Repository root (holds sigma_rules/, playbooks/, lists/ and versions.lock.json).  "
    "[default: the nearest folder above the working one that holds sigma_rules/ and "
    "pyproject.toml]",
)


def _dist(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    """The built output: as given, else ROOT/dist inside a repository, else ./dist."""
    if value is not None:
        return value
    here = Path.cwd()
    found = find_root(here)
    return Path(os.path.relpath(found, here)) / "dist" if found else Path("dist")


dist_option = functools.partial(
    option,
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_dist,
)
rules_option = option(
    "--rules",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of Sigma rules.  [default: ROOT/sigma_rules]",
)
