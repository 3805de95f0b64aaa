"""JSON text measured without decoding it: how deeply it nests, and where a value ends.

``json.loads`` recurses once per level of nesting, so a record nested 100,000 deep raises
RecursionError; these look at the brackets outside strings instead, with bytes operations
that loop in C, in one pass and without recursion, however long or deep the text is.
Escapes and strings are dropped first (an escaped quote does not end a string, a bracket in
a string is no bracket): escaped backslashes, then escaped quotes, paired left to right as a
decoder pairs them; then every other piece between quotes. On text that is not valid JSON
they may see other brackets than a decoder would, but never before the point where the
decoder stops with an error: up to there both read the same strings.
"""

from __future__ import annotations

import contextlib
import operator
import re
from array import array
from itertools import accumulate, islice, repeat

_TOKEN = re.compile(r'[\[\]{},"]')
_STEPS = bytes.maketrans(b"[{]},", b"\x01\x01\xff\xff\x00")
_NOT_STRUCTURE_OR_QUOTE = bytes(range(256)).translate(None, b'[]{},"')
_COMMAS = bytes.maketrans(b"[]{},", b"\x00\x00\x00\x00\x01")
_PAIRS = (b"[]", b"{}", b"[}", b"{]")  # the decoder checks which closes which, not this
_NOT_OPENING = bytes(range(256)).translate(None, b"[{")
# The piece of text Extent scans at a time: the slices where a value may start or end are
# read token by token, in Python; this bounds that.
_SLICE = 1 << 16


def structure(text: str) -> tuple[bytes, bool]:
    """The brackets and commas of ``text`` (which starts outside a string) outside its
    strings, in order; and whether ``text`` ends inside a string."""
    data = text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Brackets, commas and quotes only; then two quotes in a row go: a string with none of
    # the others in it, or the gap between two strings (they become one). What is left
    # between quotes is inside strings.
    data = data.translate(None, _NOT_STRUCTURE_OR_QUOTE).replace(b'""', b"")
    pieces = data.split(b'"')
    if len(pieces) > 1:
        data = b"".join(pieces[::2])
    return data, len(pieces) % 2 == 0


def _steps(brackets: bytes) -> array[int]:
    """+1 per opening bracket, -1 per closing one, 0 per comma."""
    steps = array("b")
    steps.frombytes(brackets.translate(_STEPS))
    return steps


def nesting_depth(text: str) -> int:
    """How deeply the JSON text nests (0 for a scalar, 1 for ``{"a": 1}``)."""
    brackets, _ = structure(text)
    return max(accumulate(_steps(brackets.replace(b",", b""))), default=0)


def deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests deeper than ``limit``; cheap when it cannot (a record with
    no more opening brackets than that, the common case)."""
    if text.count("{") + text.count("[") <= limit:
        return False
    return nesting_depth(text) > limit


def line_deeper_than(line: bytes, text: str, limit: int) -> bool:
    """deeper_than for a line read as bytes and decoded (``text``): the opening brackets
    counted in one pass over the bytes, the cheapest way found (this runs once per line)."""
    if len(line.translate(None, _NOT_OPENING)) <= limit:
        return False
    return nesting_depth(text) > limit


def elements_within(text: str, limit: int) -> int | None:
    """For the elements of an array that start in ``text`` (which starts where one does):
    None when none nests deeper than ``limit`` as far as ``text`` goes; else how many come
    before the first that does. C-level iterators over the levels, none of them kept."""
    brackets, _ = structure(text)
    steps = _steps(brackets)
    try:  # levels change by one: the first past the limit is one past it
        deep = operator.indexOf(accumulate(steps), limit + 1)
    except ValueError:
        return None
    with contextlib.suppress(ValueError):
        operator.indexOf(islice(accumulate(steps), deep), -1)
        return None  # the array ends before: what nests deeper is no element of it
    # 2 * level + 1 at a comma, else 2 * level: 1 marks a comma at the array's level, where
    # an element ends.
    marks = map(
        operator.add, map(operator.mul, accumulate(steps), repeat(2)), brackets.translate(_COMMAS)
    )
    return operator.countOf(islice(marks, deep), 1)


class Extent:
    """Scans a JSON value from its start to where it ends, fed its text piece by piece, none
    of it kept: how long a record is need not be known to skip it. The value ends at the
    first comma or closing bracket outside it (the text that follows a value in an array or
    object)."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escape = False  # a backslash ended the last piece, inside a string

    def feed(self, text: str, pos: int = 0, end: int | None = None) -> int | None:
        """Scan ``text[pos:end]``; the offset of the comma or bracket after the value, or
        None when the value goes on past ``end``."""
        end = len(text) if end is None else end
        pos = self._string_rest(text, pos, end)
        if pos < end and self.depth > 0 and self._inside(text[pos:end]):
            return None  # all of it inside the value: the common case of a long one
        while pos < end:
            stop = min(end, pos + _SLICE)
            pos = self._string_rest(text, pos, stop)
            if pos < stop and not (self.depth > 0 and self._inside(text[pos:stop])):
                found = self._tokens(text, pos, stop)
                if found is not None:
                    return found
            pos = stop
        return None

    def _string_rest(self, text: str, pos: int, end: int) -> int:
        """Past the rest of the string the scan is in, if it is in one."""
        if not self.in_string:
            return pos
        if self.escape:
            if pos >= end:
                return end
            pos += 1
            self.escape = False
        while True:
            quote = text.find('"', pos, end)
            if quote < 0:
                self.escape = _backslashes_before(text, pos, end) % 2 == 1
                return end
            if _backslashes_before(text, pos, quote) % 2 == 0:
                self.in_string = False
                return quote + 1
            pos = quote + 1  # an escaped quote

    def _inside(self, piece: str) -> bool:
        """The fast way over a piece that lies wholly inside the value (its brackets never
        close the value): True then, the state updated; False, nothing changed, when the
        value may end in it."""
        brackets, open_string = structure(piece)
        lowest, final = _levels(brackets.replace(b",", b""), self.depth)
        if lowest < 1:
            return False
        self.depth = final
        if open_string:
            self.in_string = True
            self.escape = _backslashes_before(piece, piece.rfind('"') + 1, len(piece)) % 2 == 1
        return True

    def _tokens(self, text: str, pos: int, end: int) -> int | None:
        """Token by token, where the value may start or end."""
        while True:
            pos = self._string_rest(text, pos, end)
            token = _TOKEN.search(text, pos, end)
            if token is None:
                return None
            char = token.group()
            pos = token.end()
            if char == '"':
                self.in_string = True
            elif char in "[{":
                self.depth += 1
                if self.depth == 1 and self._inside(text[pos:end]):
                    return None  # the value opened, and goes on past this slice
            elif self.depth == 0:
                return token.start()
            elif char != ",":
                self.depth -= 1


def _backslashes_before(text: str, start: int, end: int) -> int:
    """How many backslashes end ``text[start:end]`` (inside a string, from ``start`` on: the
    backslashes before ``start`` are paired already)."""
    tail = text[max(start, end - 64) : end]
    count = len(tail) - len(tail.rstrip("\\"))
    if count == len(tail) and end - 64 > start:  # a run longer than the tail looked at
        run = text[start:end]
        count = len(run) - len(run.rstrip("\\"))
    return count


def _levels(brackets: bytes, level: int) -> tuple[int, int]:
    """The lowest level reached along ``brackets`` (no commas), and the last, from
    ``level``. Adjacent opening and closing brackets are dropped a few times over first (the
    lowest level is not inside them): what is left is mostly closing brackets, then opening
    ones, whose lowest level is plain; else the levels are counted out."""
    closing = brackets.count(b"]") + brackets.count(b"}")
    final = level + len(brackets) - 2 * closing
    if not closing:
        return level, final
    for _ in range(8):
        shorter = brackets
        for pair in _PAIRS:
            shorter = shorter.replace(pair, b"")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    leading = len(brackets) - len(brackets.lstrip(b"]}"))
    rest = brackets[leading:]
    if b"]" not in rest and b"}" not in rest:
        return level - leading, final
    return min(accumulate(_steps(brackets), initial=level)), final
