"""Each field's distinct values over one alert's evidence, read in one pass and shared by what
the alert's record says of them: its "distinct" field and its playbook's entities, answers
and command values (which walked the evidence about three times an alert before)."""

from __future__ import annotations

from collections.abc import Sequence

from converters.engine.adapters import SigmaValue
from converters.engine.bulk import EvidenceRow


class FieldValues:
    """``distinct()``: per field (in order of its first value), its values in order of first
    appearance, None and "" left out, str()-ed (the record's "distinct"); ``of(fields)``: the
    values as they are, "" kept where it first came (the playbook's entities and commands)."""

    def __init__(self, evidence: Sequence[EvidenceRow]) -> None:
        self.evidence = evidence
        found: dict[str, dict[str, None]] = {}
        # The entities keep "": where it first came among the field's values, to put it back.
        empty: dict[str, int] = {}
        # A value neither str nor list of str (not a SigmaValue): entities read the rows then.
        self.odd = False
        for row in evidence:
            for name, value in row.values.items():
                if isinstance(value, str):
                    if value:
                        seen = found.get(name)
                        if seen is None:
                            seen = found[name] = {}
                        seen[value] = None
                    elif name not in empty:
                        empty[name] = len(found.get(name, ()))
                elif value is not None:
                    self._items(name, value, found, empty)
        self.found = found
        self.empty = empty
        self._of: dict[str, list[str]] = {}

    def _items(
        self, name: str, value: object, found: dict[str, dict[str, None]], empty: dict[str, int]
    ) -> None:
        items = value if isinstance(value, list) else [value]
        self.odd = self.odd or not isinstance(value, list)
        for item in items:
            if not isinstance(item, str):
                self.odd = True
            if item is not None and item != "":
                found.setdefault(name, {})[str(item)] = None
            elif item == "" and name not in empty:
                empty[name] = len(found.get(name, ()))

    def distinct(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self.found.items()}

    def of(self, fields: Sequence[str]) -> list[str]:
        """The distinct values of ``fields`` in time order (a list of the caller's own)."""
        if len(fields) != 1 or self.odd:
            # Several fields interleave row by row (and an odd value is read as it is).
            return rows_values(fields, self.evidence)
        name = fields[0]
        values = self._of.get(name)
        if values is None:
            values = list(self.found.get(name, ()))
            if name in self.empty:
                values.insert(self.empty[name], "")
            self._of[name] = values
        return list(values)


def rows_values(fields: Sequence[str], evidence: Sequence[EvidenceRow]) -> list[str]:
    """Distinct values of ``fields`` over the evidence, row by row, in time order."""
    found: dict[str, None] = {}
    if len(fields) == 1:  # most entities: one field, no loop over fields per row
        name = fields[0]
        for row in evidence:
            value = row.values.get(name)
            if isinstance(value, str):
                found[value] = None
            elif value is not None:
                found.update(dict.fromkeys(value))
        return list(found)
    for row in evidence:
        for name in fields:
            for value in flat(row.values.get(name)):
                found.setdefault(value, None)
    return list(found)


def flat(value: SigmaValue) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
