"""Splunk .conf value encoding, and the Jinja environment that renders .conf templates."""

from __future__ import annotations

import jinja2

from converters.writers.templates import artifact_environment


class ConfValueError(ValueError):
    """A value Splunk's .conf syntax cannot carry unchanged."""


def conf_value(value: object) -> str:
    """Encode a value for ``key = value``: a newline becomes a backslash line continuation.

    Splunk strips leading blanks of continuation lines and reads a line starting with '#' as
    a comment, and a line ending in a backslash would join the next one; such values are
    refused rather than stored changed."""
    text = str(value)
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if line.endswith("\\"):
            raise ConfValueError(f"line {number + 1} ends with a backslash: {line!r}")
        if number and line[:1] in (" ", "\t", "#"):
            raise ConfValueError(
                f"continuation line {number + 1} starts with {line[:1]!r}: {line!r}"
            )
    return "\\\n".join(lines)


def conf_decode(raw: str) -> str:
    """Inverse of conf_value, for a value as Splunk's conf parser returns it."""
    return raw.replace("\\\n", "\n")


def conf_stanza(name: object) -> str:
    text = str(name)
    if any(c in text for c in "[]\n"):
        raise ConfValueError(f"stanza name {text!r} may not contain '[', ']' or a newline")
    return text


def conf_environment() -> jinja2.Environment:
    env = artifact_environment("splunk")
    env.filters["conf_value"] = conf_value
    env.filters["conf_stanza"] = conf_stanza
    return env
