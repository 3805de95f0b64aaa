"""A small evaluator of the ES|QL this package writes (no Elasticsearch runs in the tests).

It knows the commands and functions the generator emits (FROM, WHERE, EVAL, STATS ... BY,
RENAME; TO_LOWER, CASE, NOW, MIN, MAX, COUNT, COUNT_DISTINCT; ``and``/``or``/``not``,
``in``, ``is [not] null``, comparisons, ``+``/``-`` and time-span literals such as
``615600 seconds``) with ES|QL's semantics where they matter here: a null operand makes a
comparison null and WHERE drops the row; a multivalued field makes a single-value function or
comparison null; STATS groups rows by its BY values, nulls included. Anything else is refused,
so a generator change cannot slip past it. Dates are epoch seconds.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Row = dict[str, Any]

# Fields that hold dates in the documents (ISO-8601 text there, epoch seconds here).
DATE_FIELDS = {"@timestamp", "event.ingested", "event.created"}
_SPAN = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600}
_SPAN.update({"day": 86400, "days": 86400})
_TOKEN = re.compile(
    r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<quoted>`[^`]+`)"""
    r"""|(?P<op>==|!=|<=|>=|[(),<>+\-])|(?P<name>[A-Za-z_@][\w.@]*))"""
)


class EsqlRefused(ValueError):
    """A form the evaluator does not know."""


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise EsqlRefused(f"cannot read ES|QL at {text[pos : pos + 30]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return tokens


Expr = Callable[[Row, float], Any]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> _Tok | None:
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else None

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok and tok.kind == "name" and tok.text.lower() in words:
            self.pos += 1
            return True
        return False

    def op(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok and tok.kind == "op" and tok.text in ops:
            self.pos += 1
            return tok.text
        return None

    def expect(self, text: str) -> None:
        if not self.op(text):
            raise EsqlRefused(f"expected {text!r} at {self.peek()}")

    def done(self) -> bool:
        return self.pos == len(self.toks)

    def expression(self) -> Expr:
        left = self.conjunction()
        while self.keyword("or"):
            right = self.conjunction()
            left = _or(left, right)
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.keyword("and"):
            right = self.negation()
            left = _and(left, right)
        return left

    def negation(self) -> Expr:
        if self.keyword("not"):
            inner = self.negation()
            return lambda row, now: None if (v := inner(row, now)) is None else not v
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        if self.keyword("is"):
            negate = self.keyword("not")
            if not self.keyword("null"):
                raise EsqlRefused("expected NULL after IS")
            return lambda row, now: (_single(left(row, now)) is None) != negate
        if self.keyword("in"):
            self.expect("(")
            options = [self.additive()]
            while self.op(","):
                options.append(self.additive())
            self.expect(")")
            return lambda row, now: _in(_single(left(row, now)), [o(row, now) for o in options])
        if op := self.op("==", "!=", "<=", ">=", "<", ">"):
            right = self.additive()
            return lambda row, now: _compare(op, left(row, now), right(row, now))
        return left

    def additive(self) -> Expr:
        left = self.primary()
        while op := self.op("+", "-"):
            right = self.primary()
            left = _arith(op, left, right)
        return left

    def primary(self) -> Expr:
        tok = self.peek()
        if tok is None:
            raise EsqlRefused("unexpected end of expression")
        self.pos += 1
        if tok.kind == "op" and tok.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if tok.kind == "num":
            number = float(tok.text)
            unit = self.peek()
            if unit and unit.kind == "name" and unit.text.lower() in _SPAN:
                self.pos += 1
                number *= _SPAN[unit.text.lower()]
            return lambda row, now: number
        if tok.kind == "str":
            text = re.sub(r"\\(.)", r"\1", tok.text[1:-1])
            return lambda row, now: text
        if tok.kind == "quoted":
            return _field(tok.text[1:-1])
        if tok.kind == "name":
            if self.op("("):
                return self.call(tok.text.upper())
            if tok.text.lower() == "null":
                return lambda row, now: None
            return _field(tok.text)
        raise EsqlRefused(f"unexpected {tok.text!r}")

    def call(self, name: str) -> Expr:
        args: list[Expr] = []
        if not self.op(")"):
            args.append(self.expression())
            while self.op(","):
                args.append(self.expression())
            self.expect(")")
        if name == "NOW" and not args:
            return lambda row, now: now
        if name == "TO_LOWER" and len(args) == 1:
            arg = args[0]
            return lambda row, now: (
                v.lower() if isinstance(v := _single(arg(row, now)), str) else None
            )
        if name == "CASE" and len(args) >= 2:
            return _case(args)
        raise EsqlRefused(f"unknown function {name}/{len(args)}")


def _single(value: Any) -> Any:
    """A multivalued field is null for single-value functions and comparisons."""
    return None if isinstance(value, list) else value


def _and(left: Expr, right: Expr) -> Expr:
    def run(row: Row, now: float) -> Any:
        a, b = left(row, now), right(row, now)
        if a is False or b is False:
            return False
        return None if a is None or b is None else True

    return run


def _or(left: Expr, right: Expr) -> Expr:
    def run(row: Row, now: float) -> Any:
        a, b = left(row, now), right(row, now)
        if a is True or b is True:
            return True
        return None if a is None or b is None else False

    return run


def _in(value: Any, options: list[Any]) -> Any:
    return None if value is None else value in options


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
}  # fmt: skip


def _compare(op: str, a: Any, b: Any) -> Any:
    a, b = _single(a), _single(b)
    if a is None or b is None:
        return None
    return _COMPARE[op](a, b)


def _arith(op: str, left: Expr, right: Expr) -> Expr:
    def run(row: Row, now: float) -> Any:
        a, b = _single(left(row, now)), _single(right(row, now))
        if a is None or b is None:
            return None
        return a + b if op == "+" else a - b

    return run


def _case(args: list[Expr]) -> Expr:
    def run(row: Row, now: float) -> Any:
        for i in range(0, len(args) - 1, 2):
            if args[i](row, now) is True:
                return args[i + 1](row, now)
        return args[-1](row, now) if len(args) % 2 else None

    return run


def _field(name: str) -> Expr:
    def run(row: Row, now: float) -> Any:
        value = row[name] if name in row else _path(row, name)
        if name in DATE_FIELDS and isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return value

    return run


def _path(document: Mapping[str, Any], dotted: str) -> Any:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _split_top(text: str, separator: str = ",") -> list[str]:
    """Split at commas outside parentheses, strings and backticks."""
    parts, depth, current, quote = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in '"`':
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return [p.strip() for p in parts]


def _parse(text: str) -> Expr:
    parser = _Parser(text)
    expr = parser.expression()
    if not parser.done():
        raise EsqlRefused(f"trailing tokens in {text!r}")
    return expr


def _name(text: str) -> str:
    text = text.strip()
    return text[1:-1] if text.startswith("`") else text


_AGGS: dict[str, Callable[[list[Any]], Any]] = {
    "MIN": lambda vs: min(vs) if vs else None,
    "MAX": lambda vs: max(vs) if vs else None,
    "COUNT": len,
    "COUNT_DISTINCT": lambda vs: len(set(vs)),
}


def _stats(body: str, rows: list[Row], now: float) -> list[Row]:
    aggregates_text, _, by_text = (*re.split(r"\s+(BY)\s+", body, maxsplit=1), "", "")[:3]
    by = [_name(b) for b in _split_top(by_text)] if by_text else []
    aggregates = []
    for item in _split_top(aggregates_text):
        match = re.fullmatch(r"(\w+)\s*=\s*(\w+)\((.*)\)", item, re.S)
        if not match or match.group(2).upper() not in _AGGS:
            raise EsqlRefused(f"unknown aggregation {item!r}")
        aggregates.append((match.group(1), _AGGS[match.group(2).upper()], _parse(match.group(3))))
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        key = tuple(_single(_field(b)(row, now)) for b in by)
        groups.setdefault(key, []).append(row)
    result = []
    for key, members in groups.items():
        out: Row = dict(zip(by, key, strict=True))
        for name, function, expr in aggregates:
            values: list[Any] = []
            for member in members:
                value = expr(member, now)
                values += value if isinstance(value, list) else [] if value is None else [value]
            out[name] = function(values)
        result.append(out)
    return result


def run(query: str, documents: list[Row], now: float) -> list[Row]:
    """The rows the query returns over ``documents`` (each with an ``_index`` name) at
    ``now`` (epoch seconds, what NOW() returns)."""
    commands = [c.strip() for c in re.split(r"\n\|", query)]
    head = re.fullmatch(r"FROM\s+(.+)", commands[0])
    if not head:
        raise EsqlRefused(f"the query does not start with FROM: {commands[0]!r}")
    patterns = _split_top(head.group(1))
    rows = [dict(d) for d in documents if any(fnmatch.fnmatch(d["_index"], p) for p in patterns)]
    for command in commands[1:]:
        verb, _, body = command.partition(" ")
        if verb == "WHERE":
            condition = _parse(body)
            rows = [r for r in rows if condition(r, now) is True]
        elif verb == "EVAL":
            for item in _split_top(body):
                name, _, text = item.partition("=")
                expr = _parse(text)
                for r in rows:
                    r[_name(name)] = expr(r, now)
        elif verb == "STATS":
            rows = _stats(body, rows, now)
        elif verb == "RENAME":
            old, _, new = (p.strip() for p in re.split(r"\s+(AS)\s+", body, maxsplit=1))
            for r in rows:
                r[_name(new)] = r.pop(_name(old), None)
        else:
            raise EsqlRefused(f"unknown ES|QL command {verb!r}")
    return rows
