"""Text from logs and from servers is data: before it reaches a terminal, a report or JSON meant
for people, every character that would act instead of show is written as an escape.

A terminal obeys ESC sequences (colours, cursor moves, window titles, erased lines), BEL and
the other C0 and C1 controls; bidirectional overrides, embeddings, isolates and marks reorder
what a reader sees (a right-to-left override makes ``gpj.exe`` read as ``exe.jpg``); a line
or paragraph separator breaks a line in some viewers. Those become ``\\x1b``, ``\\x9b``,
``\\u202e``...; an unpaired surrogate (JSON allows ``"\\ud800"``), which no UTF-8 output can
hold, becomes ``\\ud800``. Everything else, letters of any script included, is kept.

The JSONL alerts keep the exact value: ``json_safe`` only \\u-escapes the same characters
inside JSON text, so ``json.loads`` gives the value back unchanged."""

from __future__ import annotations


def _escape(code: int) -> str:
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
    if code in named:
        return named[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
_LAYOUT = [
    0x061C,  # Arabic letter mark
    0x200E,  # left-to-right mark
    0x200F,  # right-to-left mark
    0x2028,  # line separator
    0x2029,  # paragraph separator
    *range(0x202A, 0x202F),  # embeddings and overrides: LRE, RLE, PDF, LRO, RLO
    *range(0x2066, 0x206A),  # isolates: LRI, RLI, FSI, PDI
]
_SURROGATES = range(0xD800, 0xE000)
_ONE_LINE = {code: _escape(code) for code in [*_CONTROLS, *_LAYOUT, *_SURROGATES]}
# Where a value may span lines (a playbook, a traceback), line feeds and tabs stay.
_MULTI_LINE = {code: text for code, text in _ONE_LINE.items() if code not in (0x09, 0x0A)}
# In JSON text, C0 controls are already escaped by json.dumps; the rest is done here.
_JSON = {code: f"\\u{code:04x}" for code in [0x7F, *range(0x80, 0xA0), *_LAYOUT, *_SURROGATES]}


def visible(text: str, multiline: bool = False) -> str:
    """``text`` with every control, bidirectional and separator character escaped; with
    ``multiline``, line feeds and tabs are kept."""
    if text.isprintable():
        # Every character escaped is one Python finds unprintable (a test holds the tables
        # to that): most values go back as they are, without a lookup per character.
        return text
    return text.translate(_MULTI_LINE if multiline else _ONE_LINE)


def json_safe(dumped: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with DEL, C1, bidirectional and
    separator characters and unpaired surrogates \\u-escaped; it parses to the same value."""
    return dumped.translate(_JSON)
