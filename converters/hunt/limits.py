"""The caps on one record of a log file: its size and how deeply it nests.

A record over a cap is skipped and reported at its line, and reading goes on. They bound the
hunt's memory whatever a file holds (a 2 GB line is never held), and keep the JSON decoder
and the code after it, which recurse once per level, far from Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_RECORD_BYTES = 16 << 20
DEFAULT_MAX_DEPTH = 64
# Each level is a frame of the JSON decoder, then of the code that flattens a record; a few
# hundred leave Python's default limit of 1000 frames well clear.
MAX_DEPTH_ALLOWED = 256


@dataclass(frozen=True)
class Limits:
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES  # one line, CSV row or JSON element
    max_depth: int = DEFAULT_MAX_DEPTH  # arrays and objects inside each other

    def __post_init__(self) -> None:
        if self.max_record_bytes < 1:
            raise ValueError("max_record_bytes must be at least 1")
        if not 1 <= self.max_depth <= MAX_DEPTH_ALLOWED:
            raise ValueError(f"max_depth must be from 1 to {MAX_DEPTH_ALLOWED}")

    @property
    def too_long(self) -> str:
        """Why a record over the size cap is skipped."""
        return f"longer than {byte_size(self.max_record_bytes)} (--max-record-bytes)"

    @property
    def too_deep(self) -> str:
        """Why a record over the depth cap is skipped."""
        return f"nested deeper than {self.max_depth} levels (--max-depth)"


DEFAULT_LIMITS = Limits()


_UNITS = {"K": 10, "M": 20, "G": 30}


def parse_size(value: str | int) -> int:
    """A number of bytes, given as 16777216, 16384K, 16M or 16MiB (powers of 1024)."""
    if isinstance(value, int):
        return value
    text = value.strip().upper().removesuffix("B").removesuffix("I")
    shift = _UNITS.get(text[-1:], 0)
    digits = text[:-1] if shift else text
    if not digits.isdigit() or int(digits) < 1:
        raise ValueError(f"{value!r} is not a size in bytes (such as 16777216 or 16M)")
    return int(digits) << shift


def byte_size(count: int) -> str:
    """``16 MiB`` for 16 << 20; exact, so that the message gives the cap as set."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift and not count % (1 << shift):
            return f"{count >> shift} {unit}"
    return f"{count} bytes"
