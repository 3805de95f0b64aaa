"""The Jinja environment for the package's own artifact templates (converters/templates/)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2


def artifact_environment(kind: str) -> jinja2.Environment:
    """Templates of ``converters/templates/<kind>``: strict (a missing value is an error),
    no autoescape (these are .conf, .txt and markdown files, escaped by their own filters)."""
    root = Path(str(resources.files("converters") / "templates" / kind))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
