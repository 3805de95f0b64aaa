"""The store of held rows (converters.hunt.heldstore): its folding is SQLite's NOCASE, and
the rows it gives back are those added, in the order held."""

from __future__ import annotations

import sqlite3

from hypothesis import example, given, settings
from hypothesis import strategies as st

from converters.engine.bulk import storable
from converters.hunt.heldstore import CHUNK, HeldStore, nocase

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
        # Over two chunks: rows read back from either, and from the one not yet written.
        rows = [(seq, ("a", "b"), (f"v{seq}", None, 0, seq)) for seq in range(CHUNK + 5)]
        for seq, columns, cells in rows:
            assert store.add(seq, columns, cells, [(0, nocase(str(cells[0])))]) == seq
            assert list(store.index[0][nocase(str(cells[0]))]) == [seq]
        wanted = [CHUNK + 3, 1, CHUNK - 1, CHUNK + 3, 3]
        assert list(store.rows(wanted)) == [rows[n] for n in (1, 3, CHUNK - 1, CHUNK + 3)]
    finally:
        store.close()


def test_a_row_marshal_cannot_write_is_kept_as_it_is() -> None:
    store = HeldStore()
    try:
        odd = object()  # no builder makes such a cell; the store keeps it rather than lose it
        rows = [(seq, ("a",), (odd if seq == 7 else f"v{seq}",)) for seq in range(CHUNK + 1)]
        for seq, columns, cells in rows:
            store.add(seq, columns, cells, [(0, b"x")])
        assert list(store.rows(range(CHUNK + 1))) == rows
    finally:
        store.close()
