"""What every record format shares: the row helpers (times, flattening, engine columns) and
``RecordFormat``, what a format must say about its records."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from converters.engine import shapes
from converters.engine.adapters import (
    EVENT_ID,
    SOURCE,
    TIMESTAMP,
    Keep,
    RecordFormatError,
    SigmaRow,
    SigmaValue,
    _scalar,
    is_mapping,
    moment_timestamp,
)

# Get-MessageTrace | Export-Csv writes dates in the en-US culture unless told otherwise.
_US_TIMES = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


# What a cheap look at one record tells: its data source, how many events (rows) it holds,
# and when it happened (the newest time read bounds correlation windows). A plain tuple: this
# runs once per record read.
Inspected = tuple[str, int, datetime]
# A row as the engine's table stores it: the values of its columns, then file and line
# (converters.engine.bulk.BulkEngine.cells); and a builder of a record's rows as such.
Cells = tuple[object, ...]
CellsOf = Callable[[Mapping[str, Any], Inspected, int, int], list[Cells]]


def _same(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return record


@dataclass(frozen=True)
class RecordFormat:
    """``canonical`` turns any shape of the format's records into the one ``inspect`` and
    ``rows`` read (converters.engine.shapes); callers apply it first."""

    name: str
    title: str
    looks_like: Callable[[Mapping[str, Any]], bool]
    inspect: Callable[[Mapping[str, Any]], Inspected]
    rows: Callable[[Mapping[str, Any]], list[SigmaRow]]
    canonical: Callable[[Mapping[str, Any]], Mapping[str, Any]] = _same
    # ``rows`` given what ``inspect`` said of the record (the hunt inspects every record:
    # not twice) and the keys the caller reads (converters.engine.adapters.Keep).
    rows_kept: Callable[[Mapping[str, Any], Inspected, Keep], list[SigmaRow]] | None = None
    # A builder of the cells of ``rows_for`` in the given columns (the keep being theirs)
    # for records of one data source, given the way by rows (what it does on a record of
    # a shape it does not read); None: the rows' way (converters.engine.cells).
    compile_cells: Callable[[str, tuple[str, ...], CellsOf], CellsOf | None] | None = None

    def rows_for(
        self, record: Mapping[str, Any], inspected: Inspected, keep: Keep
    ) -> list[SigmaRow]:
        """``rows(record)``, or only their kept keys when the format can skip the others."""
        if self.rows_kept is None:
            return self.rows(record)
        return self.rows_kept(record, inspected, keep)


def kept_format(
    name: str,
    title: str,
    looks_like: Callable[[Mapping[str, Any]], bool],
    inspect: Callable[[Mapping[str, Any]], Inspected],
    rows_kept: Callable[[Mapping[str, Any], Inspected, Keep], list[SigmaRow]],
    canonical: Callable[[Mapping[str, Any]], Mapping[str, Any]] = _same,
) -> RecordFormat:
    """A format whose rows are built from its inspection (every key: ``keep`` None)."""

    def rows(record: Mapping[str, Any]) -> list[SigmaRow]:
        return rows_kept(record, inspect(record), None)

    return RecordFormat(name, title, looks_like, inspect, rows, canonical, rows_kept)


def parse_time(value: object) -> datetime:
    """ISO-8601 (no zone = UTC), Unix seconds (Zeek, Squid), the en-US date of a message
    trace export or OData's ``/Date(ms)/``, as an aware UTC datetime; RecordFormatError
    otherwise."""
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = shapes.odata_date(value) or _other_time(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    else:
        raise RecordFormatError(f"time must be a string or a number, got {value!r}")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def iso_time(value: object) -> datetime:
    """ISO-8601 only (no zone = UTC), as adapters.utc_timestamp accepts it: a record that
    inspects well must also give its rows."""
    if type(value) is not str:
        raise RecordFormatError(f"timestamp must be a string, got {value!r}")
    if len(value) == 19 and value[10:11] == "T":
        # UAL's CreationTime, naive to the second: parsed once, with the zone (replace()
        # costs a fifth more). A string that had a zone of its own fails here, and below.
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordFormatError(f"not an ISO-8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        # A fraction without a zone: parsing again with the zone costs a fifth of replace();
        # only for a full time (3.11 reads "2026-11-02+00:00" as naive).
        if value[10:11] == "T" and value[19:20] in ("", ".") and len(value) >= 19:
            return datetime.fromisoformat(value + "+00:00")
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def _other_time(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except ValueError:
        pass
    for layout in _US_TIMES:
        try:
            return datetime.strptime(value.strip(), layout)
        except ValueError:
            continue
    raise RecordFormatError(f"not a timestamp: {value!r}")


def row_time(moment: datetime) -> str:
    """The rows' timestamp format (adapters.utc_timestamp) of an aware datetime."""
    return moment_timestamp(moment)


def flatten(
    value: object, prefix: str = "", into: SigmaRow | None = None, keep: Keep = None
) -> SigmaRow:
    """Raw names flattened with dots; lists of objects become one multivalue field per key.
    With ``keep``, subtrees whose keys no caller reads are not walked."""
    row: SigmaRow = {} if into is None else into
    if is_mapping(value):
        for key, item in value.items():
            name = f"{prefix}{key}"
            # Every key of the subtree starts with ``name``.
            if keep is None or name in keep:
                flatten(item, name + ".", row, keep)
    elif isinstance(value, list) and any(is_mapping(item) for item in value):
        for item in value:
            for key, found in flatten(item, prefix, None, keep).items():
                append(row, key, found)
    elif prefix:
        row[prefix[:-1]] = _scalar(value)
    return row


def append(row: SigmaRow, key: str, found: SigmaValue) -> None:
    """Add values to a multivalue field."""
    existing = row.get(key)
    if found is None and existing is None:
        return
    values = [] if existing is None else [existing] if isinstance(existing, str) else existing
    values.extend([] if found is None else [found] if isinstance(found, str) else found)
    row[key] = values


def engine_columns(row: SigmaRow, moment: datetime, source: str, event_id: object) -> SigmaRow:
    row.update(
        {
            TIMESTAMP: row_time(moment),
            SOURCE: source,
            EVENT_ID: None if event_id in (None, "") else str(event_id),
        }
    )
    return row
