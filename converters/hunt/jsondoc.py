"""One JSON document read element by element, each with the line it starts on.

A Reports API page (``{"kind": ..., "items": [...]}``), a Graph or Reporting Web Service answer
(``{"value": [...]}``), an Azure Monitor export (``{"records": [...]}``) or a JSON array yields
its elements; any other object is one record. ``json.loads`` would give
neither line numbers nor the records before a syntax error; here a broken element is reported
at its line and reading resumes at the next element of a pretty-printed array.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from converters.engine.shapes import CONTAINER_KEYS

_WHITESPACE = " \t\n\r"


@dataclass(frozen=True)
class JsonError:
    message: str


class _Lines:
    """Line numbers of increasing offsets, counted incrementally."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.line = 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def iter_document(text: str) -> Iterator[tuple[int, object]]:
    """(line, element) per record; (line, JsonError) where the JSON is broken."""
    decoder = json.JSONDecoder()
    lines = _Lines(text)
    start = _skip(text, 0)
    if start >= len(text):
        return
    if text[start] == "[":
        yield from _array(text, start, decoder, lines)
        return
    if text[start] == "{":
        found = yield from _object(text, start, decoder, lines)
        if found:
            return
    try:
        value, end = decoder.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        yield lines.at(start), JsonError(f"malformed JSON: {exc}")
        return
    yield lines.at(start), value
    if _skip(text, end) < len(text):
        yield lines.at(_skip(text, end)), JsonError("extra data after the JSON document")


def _object(
    text: str, pos: int, decoder: json.JSONDecoder, lines: _Lines
) -> Generator[tuple[int, object], None, bool]:
    """Stream the container arrays of a top-level object; returns whether it had one (else
    the caller reads the object as one record, and nothing was yielded)."""
    found = False
    pos = _skip(text, pos + 1)
    try:
        while pos < len(text) and text[pos] != "}":
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos] != ":":
                raise ValueError("expected ':'")
            pos = _skip(text, pos + 1)
            if key in CONTAINER_KEYS and text[pos] == "[":
                found = True
                pos = yield from _array(text, pos, decoder, lines)
            else:
                _value, pos = decoder.raw_decode(text, pos)
            pos = _skip(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos = _skip(text, pos + 1)
    except (ValueError, IndexError) as exc:
        if found:
            yield lines.at(min(pos, len(text))), JsonError(f"malformed JSON: {exc}")
        return found
    return found


def _array(
    text: str, pos: int, decoder: json.JSONDecoder, lines: _Lines
) -> Generator[tuple[int, object], None, int]:
    """Yield the elements of the array at ``pos``; return the offset after it."""
    pos = _skip(text, pos + 1)
    while pos < len(text) and text[pos] != "]":
        start = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield lines.at(start), JsonError(f"malformed JSON: {exc.msg} (line {exc.lineno})")
            resume = _next_element(text, start, exc.pos)
            if resume is None:
                yield lines.at(start), JsonError("the rest of the file cannot be read")
                return len(text)
            pos = resume
            continue
        yield lines.at(start), value
        pos = _skip(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif pos < len(text) and text[pos] != "]":
            yield lines.at(pos), JsonError("malformed JSON: expected ',' or ']'")
            return len(text)
    return pos + 1


def _next_element(text: str, start: int, error: int) -> int | None:
    """Where the element after a broken one starts: the next line indented like it (only a
    pretty-printed array has such lines)."""
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start]
    if line_start == 0 or indent.strip() or text[start] != "{":
        return None
    found = text.find("\n" + indent + "{", max(error, start + 1))
    return None if found < 0 else found + 1 + len(indent)
