"""ES|QL syntax check with Elasticsearch's own grammar (the esql-parser package: the ANTLR
lexer and parser generated from the grammar of the Elasticsearch release it is numbered after).

ANTLR's default listeners print a syntax error and recover, so a broken query would parse;
both listeners are replaced by one that raises."""

from __future__ import annotations

from typing import Any

from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from esql_parser.EsqlBaseLexer import EsqlBaseLexer
from esql_parser.EsqlBaseParser import EsqlBaseParser


class EsqlSyntaxError(ValueError):
    pass


class _Raise(ErrorListener):
    # ANTLR's callback, names and all.
    def syntaxError(
        self,
        recognizer: Any,
        offendingSymbol: Any,
        line: int,
        column: int,
        msg: str,
        e: Any,
    ) -> None:
        raise EsqlSyntaxError(f"line {line}:{column}: {msg}")


def parse_esql(query: str) -> None:
    """Parse ``query`` as one ES|QL statement to its end; raise EsqlSyntaxError if it is not
    one."""
    lexer = EsqlBaseLexer(InputStream(query))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Raise())
    parser = EsqlBaseParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(_Raise())
    parser.singleStatement()  # query EOF: trailing text is an error too
