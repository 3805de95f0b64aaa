"""Rule values written as each target's literals, meaning exactly the Sigma value.

A Sigma string is text and wildcards (``*``, ``?``; ``\\*``, ``\\?`` and ``\\\\`` are the
literal characters). pySigma escapes a literal by putting a backslash before it, which is not
what every target reads: an EQL or ES|QL string has its own escapes (``\\n``, never ``\\*``),
EQL's ``:`` and ``like`` have no escape for ``*`` and ``?`` at all (Elasticsearch turns the
pattern into a LIKE pattern with a control character as escape), and a Splunk search term has
no escape for ``*``. The functions here write each form; what a target cannot write is refused
by its backend with the reason (``splunk_refusal``).
"""

from __future__ import annotations

from sigma.types import SigmaString, SpecialChars

# Lucene's regular-expression operators (all optional ones on, as EQL's regex~ runs them) and
# Python's (the eql library the tests run): escaped, they are the character itself in both.
_REGEX_RESERVED = frozenset('.?+*|{}[]()"\\#@&<>~^$/')
_EQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Elasticsearch writes a `:`/like pattern as a LIKE pattern escaped with U+0001.
_EQL_PATTERN_UNSAFE = "\x01"
# The Splunk backend writes marks (__dac_exact_0__) into a search and replaces them after.
SPLUNK_MARK = "__dac_"
# What ends a line for Splunk's .conf reader or a search (a search is one line per stage).
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def text_of(value: SigmaString) -> str:
    """The literal characters of a value, wildcards left out."""
    return "".join(part for part in value.s if isinstance(part, str))


def has_wildcards(value: SigmaString) -> bool:
    return any(isinstance(part, SpecialChars) for part in value.s)


def _render(value: SigmaString, text: dict[str, str], multi: str, single: str) -> str:
    out: list[str] = []
    for part in value.s:
        if isinstance(part, str):
            out.append("".join(text.get(c, c) for c in part))
        elif part == SpecialChars.WILDCARD_MULTI:
            out.append(multi)
        elif part == SpecialChars.WILDCARD_SINGLE:
            out.append(single)
        else:
            raise ValueError(f"unexpected part {part!r} in a string value")
    return "".join(out)


def eql_escape(text: str) -> str:
    """Text inside an EQL ``"..."`` string (Elasticsearch's escapes; other characters as is)."""
    return "".join(_EQL_ESCAPES.get(c, c) for c in text)


def eql_string(value: SigmaString) -> str:
    """A value as an EQL string, wildcards as ``*`` and ``?`` (for ``:``, ``like~``)."""
    return '"' + _render(value, _EQL_ESCAPES, "*", "?") + '"'


def eql_needs_exact(value: SigmaString) -> bool:
    """Whether ``:`` would misread the value: a literal ``*`` or ``?`` (EQL patterns cannot
    escape them), or, in a pattern, the character Elasticsearch escapes LIKE patterns with."""
    text = text_of(value)
    if "*" in text or "?" in text:
        return True
    return has_wildcards(value) and _EQL_PATTERN_UNSAFE in text


def regex(value: SigmaString) -> str:
    """The value as a regular expression that Lucene (anchored) and Python read alike: its
    literal characters escaped, ``*`` as ``.*``, ``?`` as ``.``."""
    escapes = {c: "\\" + c for c in _REGEX_RESERVED}
    return _render(value, escapes, ".*", ".")


def eql_exact(field: str, value: SigmaString, cased: bool) -> str:
    """The EQL test for a value ``:`` cannot carry: set membership (no wildcards in ``in``)
    for a literal, a regular expression for a pattern."""
    # Parenthesised: pySigma writes a NOT before it as a bare `not`.
    if not has_wildcards(value):
        return f"({field} {'in' if cased else 'in~'} ({eql_string(value)}))"
    return f'({field} {"regex" if cased else "regex~"} "{eql_escape(regex(value))}")'


_ESQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def esql_string(value: SigmaString) -> str:
    """A value as an ES|QL string: a literal as is; a pattern (for LIKE) with ``*``, ``?`` and
    ``\\`` escaped by a backslash as LIKE reads them, then the string literal's own escapes."""
    if not has_wildcards(value):
        return '"' + "".join(_ESQL_ESCAPES.get(c, c) for c in text_of(value)) + '"'
    pattern = _render(value, {c: "\\" + c for c in "*?\\"}, "*", "?")
    return '"' + "".join(_ESQL_ESCAPES.get(c, c) for c in pattern) + '"'


def splunk_refusal(value: SigmaString) -> str | None:
    """Why a Splunk search term cannot mean exactly this value, or None."""
    text = text_of(value)
    if any(part == SpecialChars.WILDCARD_SINGLE for part in value.s):
        return "a search has no single-character wildcard for Sigma's '?'"
    if "*" in text:
        return "a search term cannot hold a literal '*' (every '*' is a wildcard)"
    if any(c in LINE_BREAKS for c in text):
        return "a search term cannot hold a line break"
    if "`" in text:
        return "Splunk expands anything between backticks as a macro, even inside quotes"
    if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in text):
        return "a search term cannot hold a control character"
    if SPLUNK_MARK in text:
        return f"{SPLUNK_MARK!r} is reserved for the marks the Splunk backend replaces"
    return None
