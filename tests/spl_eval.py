"""A small evaluator of the SPL the searches use to read a field's exact value: Splunk's JSON
field extraction of an event (arrays as ``{}``, multivalue fields), ``spath output=... path=...``
and the eval functions of Field.splunk_exact expressions, with the semantics of Splunk's
search reference (a multivalue field is a list; null is None; mvmap drops null results).

No Splunk runs in the tests: this holds the expressions to what the reference engine reads
from the same records, so that a Splunk search and ``dac hunt`` test the same value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Value = str | list[str] | None

_TOKEN = re.compile(
    r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>"(?:[^"\\]|\\.)*")|(?P<field>'(?:[^'\\]|\\.)*')"""
    r"""|(?P<op>==|!=|>=|<=|[(),=<>])|(?P<name>[A-Za-z_][A-Za-z0-9_.{}]*))"""
)


def splunk_fields(record: Mapping[str, Any]) -> dict[str, Value]:
    """The fields Splunk's JSON extraction (KV_MODE=json) gives an event: nested keys joined
    with dots, arrays marked ``{}``, every value of a repeated path one multivalue field."""
    found: dict[str, list[str]] = {}

    def walk(node: object, path: str) -> None:
        if isinstance(node, Mapping):
            for key, item in node.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{path}{{}}")
        elif node is not None:
            text = ("true" if node else "false") if isinstance(node, bool) else str(node)
            found.setdefault(path, []).append(text)

    walk(record, "")
    return {k: v[0] if len(v) == 1 else v for k, v in found.items()}


def spath(record: Mapping[str, Any], path: str) -> Value:
    """``spath path=a.b{}``: the array's elements as JSON text, one value each."""
    node: object = record
    for part in path.removesuffix("{}").split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if not isinstance(node, list):
        return None
    values = [json.dumps(item) if isinstance(item, Mapping | list) else str(item) for item in node]
    return values[0] if len(values) == 1 else values or None


def evaluate(expression: str, fields: Mapping[str, Value]) -> Value:
    tokens = [m for m in _TOKEN.finditer(expression) if m.group(0).strip()]
    parser = _Parser(tokens, expression)
    tree = parser.expression()
    if parser.pos != len(tokens):
        raise ValueError(f"unparsed rest of {expression!r} at token {parser.pos}")
    return tree(dict(fields))


Node = Callable[[dict[str, Value]], Value]


class _Ref:
    """A field reference: its value, and its name (mvmap rebinds it per value)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, fields: dict[str, Value]) -> Value:
        return fields.get(self.name)


class _Parser:
    def __init__(self, tokens: list[re.Match[str]], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def peek(self, kind: str | None = None, text: str | None = None) -> bool:
        if self.pos >= len(self.tokens):
            return False
        token = self.tokens[self.pos]
        return (kind is None or token.group(kind) is not None) and (
            text is None or token.group(0).strip() == text
        )

    def take(self) -> re.Match[str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        if not self.peek(text=text):
            raise ValueError(f"expected {text!r} in {self.text!r}")
        self.pos += 1

    def expression(self) -> Node:
        left = self.operand()
        if self.peek("op") and self.tokens[self.pos].group("op") in ("==", "!=", "="):
            op = self.take().group("op")
            right = self.operand()
            equal = op in ("==", "=")
            return lambda f: _compare(left(f), right(f), equal)
        return left

    def operand(self) -> Node:
        token = self.take()
        if token.group("num") is not None:
            value = token.group("num")
            return lambda f: value
        if token.group("str") is not None:
            # SPL string literals: \" and \\ are escapes, any other backslash stays (regexes).
            text = re.sub(r'\\(["\\])', r"\1", token.group("str")[1:-1])
            return lambda f: text
        if token.group("field") is not None:
            return _Ref(token.group("field")[1:-1])
        name = token.group("name")
        if name is None:
            raise ValueError(f"unexpected {token.group(0)!r} in {self.text!r}")
        if not self.peek(text="("):
            return _Ref(name)
        self.expect("(")
        args: list[Node] = []
        while not self.peek(text=")"):
            args.append(self.expression())
            if self.peek(text=","):
                self.take()
        self.expect(")")
        return _function(name, args)


def _compare(left: Value, right: Value, equal: bool) -> Value:
    if left is None or right is None:
        return None
    lefts = left if isinstance(left, list) else [left]
    rights = right if isinstance(right, list) else [right]
    same = any(a == b for a in lefts for b in rights)
    return "true" if same == equal else "false"


def _truth(value: Value) -> bool:
    return value == "true"


def _function(name: str, args: list[Node]) -> Node:
    if name == "null":
        return lambda f: None
    if name == "true":
        return lambda f: "true"
    if name == "if":
        return lambda f: args[1](f) if _truth(args[0](f)) else args[2](f)
    if name == "coalesce":

        def coalesce(f: dict[str, Value]) -> Value:
            for arg in args:
                value = arg(f)
                if value not in (None, ""):
                    return value
            return None

        return coalesce
    if name == "nullif":
        return lambda f: None if args[0](f) == args[1](f) else args[0](f)
    if name == "case":

        def case(f: dict[str, Value]) -> Value:
            for condition, result in zip(args[::2], args[1::2], strict=True):
                if _truth(condition(f)):
                    return result(f)
            return None

        return case
    if name == "match":
        return lambda f: _each(args[0](f), lambda v: re.search(str(args[1](f)), v) is not None)
    if name == "replace":
        return lambda f: _map(
            args[0](f), lambda v: _spl_replace(v, str(args[1](f)), str(args[2](f)))
        )
    if name == "mvindex":
        return lambda f: _mvindex(args[0](f), int(str(args[1](f))))
    if name == "mvmap":
        return _mvmap(args)
    if name == "json_extract":
        return lambda f: _json_extract(args[0](f), str(args[1](f)))
    if name == "mvjoin":
        return lambda f: _mvjoin(args[0](f), str(args[1](f)))
    if name == "lower":
        return lambda f: _map(args[0](f), str.lower)
    raise ValueError(f"SPL function {name!r} is not simulated")


def _each(value: Value, test: Callable[[str], bool]) -> Value:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return "true" if any(test(v) for v in values) else "false"


def _map(value: Value, change: Callable[[str], str]) -> Value:
    if value is None:
        return None
    if isinstance(value, list):
        return [change(v) for v in value]
    return change(value)


def _spl_replace(value: str, pattern: str, replacement: str) -> str:
    # SPL writes back-references as \1 (PCRE); Python's re.sub reads them the same way.
    return re.sub(pattern, replacement, value)


def _mvjoin(value: Value, separator: str) -> Value:
    if value is None:
        return None
    return separator.join(value) if isinstance(value, list) else value


def _mvindex(value: Value, index: int) -> Value:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return values[index] if -len(values) <= index < len(values) else None


def _mvmap(args: list[Node]) -> Node:
    def run(fields: dict[str, Value]) -> Value:
        values = args[0](fields)
        if values is None:
            return None
        # The expression names the field being mapped: rebind it to each value in turn.
        reference = args[0]
        if not isinstance(reference, _Ref):
            raise ValueError("mvmap maps a field")
        name = reference.name
        results: list[str] = []
        for value in values if isinstance(values, list) else [values]:
            found = args[1]({**fields, name: value})
            if isinstance(found, list):
                results += found
            elif found is not None:
                results.append(found)
        return results[0] if len(results) == 1 else results or None

    return run


def _json_extract(value: Value, path: str) -> Value:
    if value is None or isinstance(value, list):
        return None
    try:
        node = json.loads(value)
    except ValueError:
        return None
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return None
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, dict | list):
        return json.dumps(node)
    return str(node)


def search_term(search: str, field: str) -> str:
    """The value of ``field="..."`` in a search, unquoted as the search language reads a quoted
    term: ``\\"`` is a quote, ``\\\\`` a backslash (a ``*`` stays the wildcard it is)."""
    start = search.index(f'{field}="') + len(field) + 2
    out: list[str] = []
    index = start
    while search[index] != '"':
        if search[index] == "\\":
            index += 1
            if search[index] not in '"\\':
                raise ValueError(f"a lone backslash in the term at {index}: {search!r}")
        out.append(search[index])
        index += 1
    return "".join(out)
