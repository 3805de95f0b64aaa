"""The consoles every `dac` command prints through.

On a terminal rich fits tables and text to its width. Written to a file or a pipe (CI logs,
``| grep``), rich would assume 80 columns and wrap or cut every longer line; here the width
is then unbounded, so each problem, path and table row stays whole on its own line. An
explicit ``COLUMNS`` still wins."""

from __future__ import annotations

import rich.console

# Wide enough for any line a command writes; rich never pads a table or text to it.
UNBOUNDED = 100_000


class Console(rich.console.Console):
    """rich's Console, unbounded in width when not writing to a terminal; data is printed as
    written (no highlighting, no emoji codes such as ``:x:`` turned into pictures)."""

    def __init__(self, *, stderr: bool = False) -> None:
        super().__init__(stderr=stderr, highlight=False, emoji=False)

    @property
    def size(self) -> rich.console.ConsoleDimensions:
        measured = super().size
        # Asked on every print: the stream may change (click's test runner swaps stdout).
        if self._width is None and not self.is_terminal:
            return rich.console.ConsoleDimensions(UNBOUNDED, measured.height)
        return measured

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size
