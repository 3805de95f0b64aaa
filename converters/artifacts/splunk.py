"""Stage 4 (Splunk): typed models of what the app contains. Writers turn them into files."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stanza:
    """One ``[name]`` of a .conf file with its settings in output order."""

    name: str
    settings: tuple[tuple[str, str], ...]

    def get(self, key: str) -> str | None:
        for k, v in self.settings:
            if k == key:
                return v
        return None


@dataclass(frozen=True)
class Lookup:
    """A CSV lookup file and its transforms.conf definition."""

    name: str
    filename: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    transform: Stanza


@dataclass(frozen=True)
class SplunkApp:
    app_id: str
    label: str
    version: str
    description: str
    author: str
    build: int
    saved_searches: tuple[Stanza, ...]
    macros: tuple[Stanza, ...]
    lookups: tuple[Lookup, ...]
