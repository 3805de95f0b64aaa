"""YAML read strictly: a mapping that names a key twice is a problem, not a silent overwrite.

PyYAML keeps the last of two equal keys, so a rule that says ``event.name`` twice in a
selection, or ``level`` twice, would lose one of them without a word. Every loader of this
package (rules, filters, thresholds, playbook, coverage plan) reads through ``load_documents``,
which keeps PyYAML's safe construction and records each repeated key with its line.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from converters.errors import Problem

_MERGE_TAG = "tag:yaml.org,2002:merge"
# libyaml's parser where PyYAML was built with it (its wheels are): the same events and
# marks, several times faster than the pure-Python one; the construction stays PyYAML's.
if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DuplicateKey:
    key: str
    line: int  # the repeated key, 1-based
    first_line: int  # where the key was first given


class StrictLoader(_SafeLoader):
    """SafeLoader that records every mapping key given twice (merge keys ``<<`` aside: their
    overriding is what they are for)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[DuplicateKey] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # PyYAML itself refuses an unhashable key, with its line
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(DuplicateKey(str(key), line, seen[key]))
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class Document:
    node: yaml.Node
    value: Any
    duplicates: tuple[DuplicateKey, ...]


def load_documents(text: str) -> list[Document]:
    """Every document of a YAML stream with its node (for line numbers) and its repeated keys.
    Raises yaml.YAMLError on malformed YAML, as PyYAML does."""
    loader = StrictLoader(text)
    documents: list[Document] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            before = len(loader.duplicates)
            value = loader.construct_document(node)
            documents.append(Document(node, value, tuple(loader.duplicates[before:])))
    finally:
        loader.dispose()
    return documents


def load_document(text: str) -> Document | None:
    """The single document of a file (None when it is empty); more than one is malformed."""
    loader = StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return Document(node, loader.construct_document(node), tuple(loader.duplicates))
    finally:
        loader.dispose()


def duplicate_problems(
    path: Path, duplicates: tuple[DuplicateKey, ...], rule: str | None = None
) -> list[Problem]:
    return [
        Problem(
            path,
            f"duplicate key {d.key!r} (first given on line {d.first_line}); "
            "YAML would keep only the last",
            rule=rule,
            line=d.line,
        )
        for d in sorted(duplicates, key=lambda d: d.line)
    ]
