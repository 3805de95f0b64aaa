"""The reference engine's SQL: pySigma's SQLite backend, with the disposable-domain test as a
SQL function that the engine registers (converters.engine)."""

from __future__ import annotations

from typing import ClassVar

from sigma.backends.sqlite.sqlite import sqliteBackend
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState

from converters.backends.common import DacBackend

DISPOSABLE_FUNCTION = "dac_disposable_domain"


class DacSqliteBackend(DacBackend, sqliteBackend):
    name: ClassVar[str] = "dac-t1585 SQLite reference backend"

    def disposable_test(
        self, sigma_field: str, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        quoted = self.escape_and_quote_field(sigma_field)  # type: ignore[no-untyped-call]
        return f"{DISPOSABLE_FUNCTION}({quoted}) IS NOT NULL"
