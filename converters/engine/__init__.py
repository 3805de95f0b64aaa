"""The embedded reference engine: raw audit records in their real formats, turned into the
rows and documents each target would hold, and the compiled queries run over them.

- ``adapters``: raw record -> flat Sigma rows (the SQLite reference table's rows).
- ``ecs``: raw record -> the document the Elastic integration would index, plus the simulated
  ingest-time disposable-domain enrichment.
- ``sqlite_engine``: the pySigma SQLite backend's queries on an in-memory table.
- ``eql_engine``: the EQL backend's queries on ECS documents, with Elastic's ``eql`` library.
- ``shapes``: the shapes SIEMs and exports hold records in -> one canonical record per source;
- ``formats`` (``gws``, ``rowtools``): every format ``dac hunt`` reads -> data source,
  events, rows (``netlogs`` parses the text network logs); ``records``: any record ->
  canonical, source, rows;
  ``access``: one field read from a raw record, cheaply;
  ``bulk``: the SQLite reference engine loaded in bulk, rows located by file and line;
  ``cells`` (``fastcells``, ``fastgws``): a record's rows straight into the table's cells;
  ``stepwise``: correlation queries run a step at a time; ``eventcount``: a single rule's
  event count read back from its query, and the rows it can use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from converters.engine.adapters import RecordFormatError, SigmaRow
    from converters.engine.ecs import ecs_documents
    from converters.engine.eql_engine import EqlEngine
    from converters.engine.records import detect_source, load_records, sigma_rows
    from converters.engine.sqlite_engine import Alert, SqliteEngine

# Imported when first named: `dac hunt` reads only the bulk engine, and Elastic's eql parser
# alone takes a quarter of a second to import.
_HOMES = {
    "Alert": "sqlite_engine",
    "EqlEngine": "eql_engine",
    "RecordFormatError": "adapters",
    "SigmaRow": "adapters",
    "SqliteEngine": "sqlite_engine",
    "detect_source": "records",
    "ecs_documents": "ecs",
    "load_records": "records",
    "sigma_rows": "records",
}

__all__ = [
    "Alert",
    "EqlEngine",
    "RecordFormatError",
    "SigmaRow",
    "SqliteEngine",
    "detect_source",
    "ecs_documents",
    "load_records",
    "sigma_rows",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
