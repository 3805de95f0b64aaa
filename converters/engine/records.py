"""Any raw record -> its format, its data source and its Sigma rows; JSON files -> records.

The one entry point the rule tests, the ECS mapping and the SIEM-side simulations use: the
record is made canonical first (converters.engine.shapes), as the hunt does per record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from converters.engine.adapters import RecordFormatError, SigmaRow
from converters.engine.formats import RECORD_FORMATS, record_format
from converters.engine.rowtools import RecordFormat
from converters.engine.shapes import records_in
from converters.sources import DataSource, source_by_name


def canonical(record: object) -> tuple[RecordFormat, Mapping[str, Any]]:
    """The record's format and the record in that format's canonical shape."""
    if not isinstance(record, Mapping):
        raise RecordFormatError(f"a record must be a JSON object, got {type(record).__name__}")
    found = record_format(record)
    if found is None:
        keys = ", ".join(sorted(str(k) for k in record)[:12])
        known = "; ".join(f.title for f in RECORD_FORMATS)
        raise RecordFormatError(
            f"unknown record format: an object with keys {{{keys}}}; the formats read are: {known}"
        )
    return found, found.canonical(record)


def detect_source(record: object) -> DataSource:
    """The data source of ``record``; RecordFormatError when its format is unknown or no
    data source reads it yet."""
    found, record = canonical(record)
    name = found.inspect(record)[0]
    try:
        return source_by_name(name)
    except KeyError:
        raise RecordFormatError(f"{found.title} record: no data source {name!r} yet") from None


def sigma_rows(record: Mapping[str, Any]) -> list[SigmaRow]:
    """The Sigma rows of one raw record (one per event of a Google Workspace activity);
    RecordFormatError as ``detect_source`` for a record no data source reads."""
    detect_source(record)
    found, record = canonical(record)
    return found.rows(record)


def load_records(path: Path) -> list[dict[str, Any]]:
    """Raw records from a JSON file: one record, a container of them (a JSON array, a
    Reports API page, a Graph or Reporting Web Service answer, an Azure Monitor export), or
    NDJSON (one record or container per line)."""
    text = path.read_text(encoding="utf-8")
    try:
        values = [json.loads(text)]
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise RecordFormatError(f"{path}:{exc.lineno}: malformed JSON: {exc.msg}") from exc
        values = [json.loads(line) for line in text.splitlines() if line.strip()]
    records: list[dict[str, Any]] = []
    for value in values:
        inner = records_in(value)
        for item in [value] if inner is None else inner:
            if not isinstance(item, dict):
                raise RecordFormatError(f"{path}: a record must be a JSON object")
            records.append(item)
    return records
