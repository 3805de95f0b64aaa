"""Lucene (Kibana new-terms and indicator-match rules): pySigma's backend, with every character
the query parser reads as whitespace escaped and operator words quoted.

pySigma escapes the space only: a tab or a line break would split the value into two terms,
and a bare ``AND``, ``OR`` or ``NOT`` would be read as an operator. The classic query parser
takes any character after a backslash as itself, and a quoted phrase as its text.
"""

from __future__ import annotations

from typing import ClassVar

from sigma.backends.elasticsearch.elasticsearch_lucene import LuceneBackend
from sigma.conversion.state import ConversionState
from sigma.types import SigmaString

from converters.backends.literals import has_wildcards, text_of

# Lucene's query parser: whitespace (it splits terms) and the operator words.
_WHITESPACE = " \t\n\r\u3000"
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})


class DacLuceneBackend(LuceneBackend):
    add_escaped: ClassVar[str] = LuceneBackend.add_escaped + "\t\n\r\u3000"

    def convert_value_str(self, s: SigmaString, state: ConversionState) -> str:
        text = text_of(s)
        if not has_wildcards(s) and (text in _OPERATORS or any(c in _WHITESPACE for c in text)):
            escaped = text.replace("\\", "\\\\").replace('"', '\\"')
            return f'"{escaped}"'
        return str(super().convert_value_str(s, state))
