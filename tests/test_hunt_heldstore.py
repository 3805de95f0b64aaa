"""The store of held rows (converters.hunt.heldstore): its folding is SQLite's NOCASE, and
the rows it gives back are those added, in the order held."""

from __future__ import annotations

import sqlite3

from hypothesis import example, given, settings
from hypothesis import strategies as st

from converters.engine.bulk import storable
from converters.hunt.heldstore import HeldStore, nocase

# Letters whose case SQLite folds and letters it does not, a lone surrogate, an empty text.
_TEXT = st.text(alphabet="aAzZ@.éÉüÜßİı\u212a\ud800", max_size=6)


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT)
@example("K.Wu", "k.wu")
@example("Ü", "ü")
@example("\u212a", "k")  # the Kelvin sign: Python's lower() gives k, NOCASE keeps it
@example("a\ud800", "A\ufffd")  # stored with U+FFFD in its place, as the engine stores it
def test_the_folding_is_sqlite_nocase(a: str, b: str) -> None:
    connection = sqlite3.connect(":memory:")
    # As the engine stores them: a lone surrogate as U+FFFD (BulkEngine._executemany).
    stored = [storable(a), storable(b)]
    (same,) = connection.execute("SELECT ? = ? COLLATE NOCASE", stored).fetchone()
    assert (nocase(a) == nocase(b)) is bool(same)


def test_rows_come_back_once_in_the_order_held() -> None:
    store = HeldStore()
    try:
        rows = [(seq, ("a", "b"), (f"v{seq}", None, 0, seq)) for seq in range(5)]
        offsets = []
        for seq, columns, cells in rows:
            assert store.add(seq, columns, cells, [(0, nocase(str(cells[0])))]) is not None
            offsets.append(store.index[0][nocase(str(cells[0]))][0])
        assert store.add(9, ("a",), (object(),), [(0, b"x")]) is None  # marshal cannot write it
        assert b"x" not in store.index[0]
        assert list(store.rows([offsets[3], offsets[1], offsets[3]])) == [rows[1], rows[3]]
    finally:
        store.close()
