"""Comparing dist/ with what a target returns. Targets add defaults and server-side fields and
Splunk answers booleans and numbers in several spellings, so the comparisons are on the
content we own, normalised; anything we do not send is not ours to compare."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


def conf_text(value: Any) -> str:
    """A Splunk setting as text: JSON booleans and numbers in Splunk's conf spelling, and
    the outer whitespace that Splunk strips from conf values removed."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return ""
    text = str(value).strip()
    lowered = text.lower()
    if lowered in _TRUE:
        return "1"
    if lowered in _FALSE:
        return "0"
    return text


def conf_diff(expected: Mapping[str, str], actual: Mapping[str, Any]) -> list[str]:
    """Settings of ``expected`` whose deployed value differs (or is missing), sorted."""
    return sorted(
        key
        for key, value in expected.items()
        if key not in actual or conf_text(actual[key]) != conf_text(value)
    )


def contains(expected: Any, actual: Any) -> bool:
    """``actual`` holds ``expected``: equal scalars, lists of the same length holding each
    other in order, and objects holding every expected key (extra keys are the server's)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and contains(v, actual[k]) for k, v in expected.items() if v is not None
        )
    if isinstance(expected, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(expected) == len(actual)
            and all(contains(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    return bool(expected == actual)


def json_diff(
    expected: Mapping[str, Any], actual: Mapping[str, Any], skip: frozenset[str]
) -> list[str]:
    """Top-level keys of ``expected`` (minus ``skip`` and unset ones) that ``actual`` lacks."""
    return sorted(
        key
        for key, value in expected.items()
        if key not in skip and value is not None and not contains(value, actual.get(key))
    )
