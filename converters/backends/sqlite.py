"""The reference engine's SQL: pySigma's SQLite backend, with the disposable-domain test as a
SQL function that the engine registers (converters.engine)."""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.backends.sqlite.sqlite import sqliteBackend
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState

from converters.pipelines.placeholders import marked_field

DISPOSABLE_FUNCTION = "dac_disposable_domain"


class DacSqliteBackend(sqliteBackend):
    name: ClassVar[str] = "dac-t1585 SQLite reference backend"

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        sigma_field = marked_field(cond.field)
        if sigma_field is None:
            return super().convert_condition_field_eq_val_str(cond, state)
        quoted = self.escape_and_quote_field(sigma_field)  # type: ignore[no-untyped-call]
        return f"{DISPOSABLE_FUNCTION}({quoted}) IS NOT NULL"
