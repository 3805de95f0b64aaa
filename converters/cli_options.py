"""Options every `dac` command that reads the repository takes, and the option class every
`dac` option is declared with."""

from __future__ import annotations

import functools
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

root_option = option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Repository root (holds playbooks/, lists/ and versions.lock.json).",
)
rules_option = option(
    "--rules",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of Sigma rules.  [default: ROOT/sigma_rules]",
)
