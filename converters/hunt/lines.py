"""Lines of a log file, none held longer than the record cap, however long the file's are."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_DRAIN = 1 << 20  # the piece of an overlong line read at a time, to be dropped


@dataclass(frozen=True)
class Overlong:
    """A line longer than the cap, read to its end and dropped; with ``count_quotes``, its
    quotes are counted (a CSV reader needs to know whether a quoted field goes on past it)."""

    quotes: int = 0


def bounded_lines(
    stream: IO[bytes], cap: int, count_quotes: bool = False
) -> Iterator[bytes | Overlong]:
    """Each line with its line break, or Overlong for one longer than ``cap`` bytes (without
    its line break), read to its end and dropped."""
    readline = stream.readline
    for line in iter(functools.partial(readline, cap + 1), b""):
        if len(line) <= cap or line.endswith(b"\n"):
            yield line
            continue
        quotes = 0
        while line and not line.endswith(b"\n"):
            quotes += line.count(b'"') if count_quotes else 0
            line = readline(_DRAIN)
        yield Overlong(quotes + (line.count(b'"') if count_quotes else 0))


def line_pieces(stream: IO[bytes], cap: int) -> Iterator[bytes]:
    """Each line with its line break; a line longer than ``cap`` bytes in pieces of ``cap``
    + 1 bytes, none ending with a line break but its last (converters.hunt.jsonread's NDJSON
    reader tells them apart: one generator less per line than ``bounded_lines``)."""
    return iter(functools.partial(stream.readline, cap + 1), b"")


class _Prepended(io.RawIOBase):
    """Bytes already read, then the rest of the stream they were read from."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        super().__init__()
        self.head = memoryview(head)
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self.head:
            count = min(len(view), len(self.head))
            view[:count] = self.head[:count]
            self.head = self.head[count:]
            return count
        data = self.stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def prepended(head: bytes, stream: IO[bytes]) -> IO[bytes]:
    """A stream of ``head`` followed by what is left of ``stream``."""
    if not head:
        return stream
    return io.BufferedReader(_Prepended(head, stream), buffer_size=1 << 16)
