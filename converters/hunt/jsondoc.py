"""One JSON document read element by element as the file is read, each with the line it
starts on, holding at most one element (up to the record cap) and a piece of the file.

A Reports API page (``{"kind": ..., "items": [...]}``), a Graph or Reporting Web Service answer
(``{"value": [...]}``, OData's ``{"d": {"results": [...]}}``), an Azure Monitor export
(``{"records": [...]}``) or a JSON array yields its elements; any other object is one record.
``json.loads`` would give neither line numbers nor the records before a syntax error, and
would need the whole file in memory; here a broken element is reported at its line and
reading resumes at the next element of a pretty-printed array.

Elements are decoded by the C decoder, straight from the text read; the text is measured
first (converters.hunt.jsonscan), so that no element nested deeper than the cap reaches the
decoder, and one longer than the cap is skipped without being held. A document that is one
line followed by more lines is NDJSON whose first line is longer than the cap: reading
returns the rest, for the NDJSON reader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO

from converters.engine.shapes import CONTAINER_KEYS
from converters.hunt.jsonscan import Extent, deeper_than, elements_within
from converters.hunt.limits import Limits

_CHUNK = 1 << 20
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# A decoder error this close to the end of the text read may be text cut short: a number,
# a literal or an escape split between two pieces of the file.
_NEAR_END = 16
# How far back a broken element's indentation is looked for: a pretty-printed array indents
# by a few spaces; one longer than this is no indentation.
_INDENT = 4096
_NOT_UTF8 = "not UTF-8 (the file cannot be read as JSON)"


@dataclass(frozen=True)
class JsonError:
    message: str


@dataclass(frozen=True)
class Rest:
    """What follows a first JSON value that was one line: the NDJSON lines after it."""

    head: bytes  # read already, from the next value on; the rest of the stream follows
    line: int  # the line ``head`` starts on


class _Stop(Exception):
    """The rest of the document cannot be read; the message says why, at the offset."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


class _Broken(Exception):
    """An element the decoder refuses: the message, and where it failed."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


def read_document(
    stream: IO[bytes], limits: Limits, line: int = 1
) -> Generator[tuple[int, object], None, Rest | None]:
    """(line, element) per record; (line, JsonError) where the JSON is broken or a record is
    over a cap. ``stream`` starts at the document, on line ``line``. Returns the NDJSON lines
    that follow a one-line document, if any."""
    return (yield from _Document(stream, limits, line).read())


class _Document:
    """The text read and not yet consumed, ``buf``: whole elements are decoded from it, and
    what lies before ``pos`` is dropped when more is read (kept from ``anchor`` on while an
    object may turn out to be one record)."""

    def __init__(self, stream: IO[bytes], limits: Limits, line: int) -> None:
        self.stream = stream
        self.limits = limits
        self.cap = limits.max_record_bytes
        self.decode = json.JSONDecoder().raw_decode
        self.buf = ""
        self.pos = 0
        self.anchor: int | None = None
        self.started = False
        self.eof = False
        self.pending = b""  # the start of a character cut off at the end of the last read
        self.undecodable: bytes | None = None  # from the first byte that is not UTF-8 on
        # Line numbers: ``line`` is the line of buf[counted]; offsets are counted from there.
        self.counted = 0
        self.line = line
        self.at_line_start = False  # buf[0] starts a line (not the document's first)
        # The nesting of buf[pos:], from an element of an array on, is known (``checked``):
        # ``within`` elements from there are within the depth cap, the next is not; None:
        # all of them are.
        self.checked = False
        self.within: int | None = None

    # Reading

    def read(self) -> Generator[tuple[int, object], None, Rest | None]:
        try:
            char = self._skip_whitespace()
            if char is None:
                if self.undecodable is not None:
                    yield self._line_at(len(self.buf)), JsonError(_NOT_UTF8)
                return None
            first = self._line_at(self.pos)
            if char == "[":
                yield from self._array()
            elif char == "{":
                yield from self._top_object(first)
            else:
                yield first, self._scalar()
            last = self._line_at(self.pos)
            char = self._skip_whitespace()
            if char is None:
                if self.undecodable is not None:
                    yield self._line_at(len(self.buf)), JsonError(_NOT_UTF8)
                return None
            if last == first and self._line_at(self.pos) > last:
                return self._rest()
            yield self._line_at(self.pos), JsonError("extra data after the JSON document")
        except _Stop as stop:
            if stop.message:
                yield self._line_at(stop.offset), JsonError(stop.message)
        return None

    def _rest(self) -> Rest:
        line = self._line_at(self.pos)
        head = self.buf[self.pos :].encode("utf-8", "surrogatepass") + self.pending
        return Rest(head + (self.undecodable or b""), line)

    def _more(self) -> bool:
        """Read the next piece of the file, dropping the text consumed; False at the end (or
        at a byte that is not UTF-8)."""
        if self.eof:
            return False
        self._drop()
        # As much as is held: an element longer than a piece is decoded again a few times,
        # not once per piece; but not far past the cap, where it is skipped anyway.
        held = len(self.buf) - self.pos
        data = self.stream.read(max(_CHUNK, min(held, self.cap + 1 - held)))
        if not data:
            self.eof = True
            if self.pending:  # the file ends inside a character
                self.undecodable, self.pending = self.pending, b""
            return False
        data = self.pending + data
        self.pending = b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = data[: exc.start].decode("utf-8")
            if exc.reason == "unexpected end of data":
                self.pending = data[exc.start :]
            else:
                self.undecodable = data[exc.start :]
                self.eof = True
        if not self.started:
            self.started = True
            text = text.removeprefix("\ufeff")
        self.buf += text
        self.checked = False
        if self.anchor is not None and len(self.buf) - self.anchor > self.cap:
            self.anchor = None  # the object is too long to be one record: not kept
        return True

    def _drop(self) -> None:
        cut = self.pos if self.anchor is None else min(self.pos, self.anchor)
        # Keep the line ``pos`` is on from its start: a broken element's indentation.
        newline = self.buf.rfind("\n", max(0, cut - _INDENT), cut)
        if newline >= 0:
            cut = newline + 1
        if cut <= 0:
            return
        self._line_at(cut)
        self.at_line_start = self.buf[cut - 1] == "\n"
        self.buf = self.buf[cut:]
        self.pos -= cut
        self.counted -= cut
        if self.anchor is not None:
            self.anchor -= cut

    def _line_at(self, offset: int) -> int:
        if offset >= self.counted:
            self.line += self.buf.count("\n", self.counted, offset)
        else:
            self.line -= self.buf.count("\n", offset, self.counted)
        self.counted = offset
        return self.line

    def _skip_whitespace(self) -> str | None:
        """The character at ``pos`` after whitespace; None at the end of the text."""
        while True:
            match = _WHITESPACE.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return None

    def _ends_early(self, inside: str) -> _Stop:
        if self.undecodable is not None:
            return _Stop(len(self.buf), _NOT_UTF8)
        return _Stop(len(self.buf), f"malformed JSON: the file ends inside {inside}")

    def _too_long(self, start: int, end: int) -> bool:
        if end - start > self.cap:
            return True
        # A character is one to four bytes: counted only when they may be over the cap.
        if (end - start) * 4 <= self.cap:
            return False
        return len(self.buf[start:end].encode("utf-8", "surrogatepass")) > self.cap

    # Values

    def _skip_value(self, top: bool = False, extent: Extent | None = None) -> None:
        """Past the value at ``pos`` to the comma or bracket after it, however long it is:
        read piece by piece, none of it kept. At the top level the end of the file ends it.
        ``extent``: the scan of the value so far, up to ``pos``."""
        extent = extent or Extent()
        while True:
            found = extent.feed(self.buf, self.pos)
            if found is not None:
                self.pos = found
                return
            self.pos = len(self.buf)
            if not self._more():
                if top and self.undecodable is None:
                    return
                raise self._ends_early("a value")

    def _decoded(self, nested: bool = False, top: bool = False) -> tuple[object, int] | JsonError:
        """The value at ``pos`` and its end, reading on while it may be cut short; JsonError
        for one over a cap, skipped. ``nested``: an element of an array, whose depth is
        checked before each decoding (the decoder recurses); ``top``: the document itself.
        _Broken when the decoder refuses it."""
        measured = False  # the value is known to end in the text read
        while True:
            if nested and not self.checked:
                self._check_depths()
            if nested and self.within == 0:
                self._skip_value()
                self.checked = False  # what follows it is measured again
                return JsonError(self.limits.too_deep)
            try:
                value, end = self.decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                unterminated = exc.msg.startswith("Unterminated string")
                cut_short = not measured and (unterminated or exc.pos >= len(self.buf) - _NEAR_END)
                # The value goes on at least to the error, or to the end of the text read
                # when that is inside a string.
                reached = len(self.buf) if unterminated else exc.pos
                if cut_short and reached - self.pos > self.cap:
                    self._skip_value(top)
                    return JsonError(self.limits.too_long)
                # A long value is measured before it is decoded again: the decoder builds
                # objects many times the size of the text before it finds the text cut short.
                if cut_short and reached - self.pos > _CHUNK and not self.eof:
                    ends = self._find_end(top)
                    if ends is False:
                        return JsonError(self.limits.too_long)
                    measured = ends is True
                    continue
                if cut_short and self._more():
                    continue
                if cut_short and self.undecodable is not None:
                    raise _Stop(len(self.buf), _NOT_UTF8) from None
                line = self._line_at(exc.pos)
                raise _Broken(exc.pos, f"malformed JSON: {exc.msg} (line {line})") from None
            # A number at the end of the text read may go on in the next piece.
            if end >= len(self.buf) and not isinstance(value, dict | list) and self._more():
                continue
            return value, end

    def _find_end(self, top: bool) -> bool | None:
        """Read on until the value at ``pos`` ends: True when it does within the cap; False
        when it is longer (then skipped, not kept); None when the file ends first."""
        extent = Extent()
        scanned = self.pos
        while extent.feed(self.buf, scanned) is None:
            scanned = len(self.buf)
            if scanned - self.pos > self.cap:
                self.pos = scanned
                self._skip_value(top, extent)
                return False
            ahead = scanned - self.pos  # reading more moves the text held
            if not self._more():
                return None
            scanned = self.pos + ahead
        return True

    def _check_depths(self) -> None:
        """Measure the nesting of the text read, from the element at ``pos`` on: once per
        piece read, not per element; which element is too deep only when one is."""
        self.checked = True
        window = self.buf[self.pos :]
        self.within = None
        if deeper_than(window, self.limits.max_depth):
            self.within = elements_within(window, self.limits.max_depth)

    def _scalar(self) -> object:
        """A document that is a string, a number or a literal: no nesting, maybe long."""
        try:
            decoded = self._decoded(top=True)
        except _Broken as broken:
            raise _Stop(broken.offset, broken.message) from None
        if isinstance(decoded, JsonError):
            return decoded
        value, end = decoded
        too_long = self._too_long(self.pos, end)
        self.pos = end
        return JsonError(self.limits.too_long) if too_long else value

    def _element(self) -> object:
        """The element of an array at ``pos``, or JsonError when it is over a cap (skipped);
        _Broken when the decoder refuses it."""
        decoded = self._decoded(nested=True)
        if isinstance(decoded, JsonError):
            value: object = decoded
        else:
            value, end = decoded
            if self._too_long(self.pos, end):
                value = JsonError(self.limits.too_long)
            self.pos = end
        if self.checked and self.within:
            self.within -= 1
        return value

    def _array(self) -> Iterator[tuple[int, object]]:
        """The elements of the array at ``pos``."""
        self.pos += 1
        self.checked = False
        while True:
            char = self._skip_whitespace()
            if char is None:
                raise self._ends_early("an array")
            if char == "]":
                self.pos += 1
                return
            line = self._line_at(self.pos)
            try:
                value = self._element()
            except _Broken as broken:
                yield line, JsonError(broken.message)
                if not self._next_element(broken.offset):
                    yield line, JsonError("the rest of the file cannot be read")
                    raise _Stop(self.pos, "") from None
                self.checked = False
                continue
            yield line, value
            char = self._skip_whitespace()
            if char == ",":
                self.pos += 1
            elif char == "]":
                self.pos += 1
                return
            elif char is None:
                raise self._ends_early("an array")
            else:
                raise _Stop(self.pos, "malformed JSON: expected ',' or ']'")

    def _next_element(self, error: int) -> bool:
        """To the element after a broken one at ``pos``: the next line indented like it (only
        a pretty-printed array has such lines); False when there is none."""
        start = self.pos
        newline = self.buf.rfind("\n", max(0, start - _INDENT), start)
        if newline < 0 and not (self.at_line_start and start <= _INDENT):
            return False
        indent = self.buf[newline + 1 : start]
        if indent.strip() or self.buf[start] != "{":
            return False
        needle = "\n" + indent + "{"
        search = max(error, start + 1)
        while True:
            found = self.buf.find(needle, search)
            if found >= 0:
                self.pos = found + len(needle) - 1
                return True
            # The needle may begin in this piece and end in the next.
            self.pos = max(search, len(self.buf) - len(needle))
            if not self._more():
                return False
            search = self.pos

    # Objects

    def _top_object(self, line: int) -> Iterator[tuple[int, object]]:
        """A container's records, or the object as one record."""
        self.anchor = self.pos
        found = yield from self._object(CONTAINER_KEYS)
        start, self.anchor = self.anchor, None
        if found:
            return
        if start is None or self._too_long(start, self.pos):
            yield line, JsonError(self.limits.too_long)
        elif deeper_than(self.buf[start : self.pos], self.limits.max_depth):
            yield line, JsonError(self.limits.too_deep)
        else:
            try:
                value, _end = self.decode(self.buf, start)
            except json.JSONDecodeError as exc:
                message = f"malformed JSON: {exc.msg} (line {self._line_at(exc.pos)})"
                raise _Stop(exc.pos, message) from None
            yield line, value

    def _object(self, keys: tuple[str, ...]) -> Generator[tuple[int, object], None, bool]:
        """Stream the arrays under ``keys`` (and OData's ``d``) of the object at ``pos``, the
        other values skipped unread; returns whether it had one."""
        found = False
        self.pos += 1
        char = self._skip_whitespace()
        while char != "}":
            if char != '"':
                raise self._unexpected(char, "a key")
            key = self._key()
            if key is not None:
                self._expect(":")
                char = self._skip_whitespace()
                if key in keys and char == "[":
                    found, self.anchor = True, None
                    yield from self._array()
                elif key == "d" and keys == CONTAINER_KEYS and char in ("[", "{"):
                    if char == "[":
                        found, self.anchor = True, None
                        yield from self._array()
                    else:
                        found = (yield from self._object(("results",))) or found
                else:
                    self._skip_value()
            char = self._skip_whitespace()
            if char == ",":
                self.pos += 1
                char = self._skip_whitespace()
            elif char != "}":
                raise self._unexpected(char, "',' or '}'")
        self.pos += 1
        return found

    def _key(self) -> str | None:
        """The key at ``pos``; None for one longer than the cap, skipped with its value."""
        try:
            decoded = self._decoded()
        except _Broken as broken:
            raise _Stop(broken.offset, broken.message) from None
        if isinstance(decoded, JsonError):
            return None
        key, self.pos = decoded
        return str(key)

    def _expect(self, char: str) -> None:
        found = self._skip_whitespace()
        if found != char:
            raise self._unexpected(found, repr(char))
        self.pos += 1

    def _unexpected(self, found: str | None, expected: str) -> _Stop:
        if found is None:
            return self._ends_early("an object")
        return _Stop(self.pos, f"malformed JSON: expected {expected}")
