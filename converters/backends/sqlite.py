"""The reference engine's SQL: pySigma's SQLite backend, with the disposable-domain test as a
SQL function that the engine registers (converters.engine)."""

from __future__ import annotations

from typing import Any, ClassVar

from sigma.backends.sqlite.sqlite import sqliteBackend
from sigma.conditions import ConditionFieldEqualsValueExpression
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.types import SigmaString

from converters.backends.common import DacBackend

DISPOSABLE_FUNCTION = "dac_disposable_domain"


class DacSqliteBackend(DacBackend, sqliteBackend):
    name: ClassVar[str] = "dac-t1585 SQLite reference backend"
    # The engine's columns are text: a bare comparison would be text against text ("3" >= "20").
    # As numbers, like the targets' numeric fields; a value that is no number never matches.
    compare_op_expression: ClassVar[str] = (
        "({field} GLOB '[0-9]*' OR {field} GLOB '-[0-9]*') AND CAST({field} AS REAL) "
        "{operator} {value}"
    )

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> Any:
        if isinstance(cond.value, SigmaString) and "\x00" in str(cond.value):
            # SQLite ends a query's text at NUL: the rest of the condition would be lost.
            raise SigmaFeatureNotSupportedByBackendError(
                f"{cond.field} value {str(cond.value)!r}: SQL text cannot hold a NUL character"
            )
        return super().convert_condition_field_eq_val_str(cond, state)

    def disposable_test(
        self, sigma_field: str, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        quoted = self.escape_and_quote_field(sigma_field)  # type: ignore[no-untyped-call]
        return f"{DISPOSABLE_FUNCTION}({quoted}) IS NOT NULL"
