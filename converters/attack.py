"""MITRE ATT&CK names, offline: from a file in the repo, never the network."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

_DATA = "attack-subset.json"


@dataclass(frozen=True)
class Tactic:
    id: str
    name: str
    shortname: str
    url: str


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    tactics: tuple[str, ...]
    url: str

    @property
    def parent_id(self) -> str | None:
        return self.id.split(".")[0] if "." in self.id else None


@dataclass(frozen=True)
class Attack:
    version: str
    tactics: dict[str, Tactic]  # by shortname
    techniques: dict[str, Technique]  # by id, upper case


def data_path() -> Path:
    return Path(str(resources.files("converters") / "data" / _DATA))


def _external_ref(obj: dict[str, Any]) -> tuple[str, str] | None:
    for ref in obj.get("external_references", []):
        if ref.get("source_name") == "mitre-attack":
            return str(ref["external_id"]), str(ref.get("url", ""))
    return None


@cache
def load() -> Attack:
    bundle = json.loads(data_path().read_text(encoding="utf-8"))
    version = "unknown"
    tactics: dict[str, Tactic] = {}
    techniques: dict[str, Technique] = {}
    for obj in bundle["objects"]:
        ref = _external_ref(obj)
        if obj["type"] == "x-mitre-collection":
            version = str(obj["x_mitre_version"])
        elif obj["type"] == "x-mitre-tactic" and ref:
            tactics[obj["x_mitre_shortname"]] = Tactic(
                ref[0], obj["name"], obj["x_mitre_shortname"], ref[1]
            )
        elif obj["type"] == "attack-pattern" and ref:
            phases = tuple(p["phase_name"] for p in obj.get("kill_chain_phases", []))
            techniques[ref[0].upper()] = Technique(ref[0], obj["name"], phases, ref[1])
    return Attack(version, tactics, techniques)


@cache
def configure_pysigma_offline() -> None:
    """Point pySigma's ATT&CK loader at the repo's file, with a private cache, so that nothing
    in pySigma (validators, SIEM-rule outputs) reaches for the internet. Once per process: the
    cache folder is removed when the process ends (one left per run filled /tmp)."""
    from sigma.data import mitre_attack

    mitre_attack.set_cache_dir(_private_cache().name)
    mitre_attack.set_url(str(data_path()))


@cache
def _private_cache() -> tempfile.TemporaryDirectory[str]:
    # Its finalizer removes the folder at exit, the cache's open database file included.
    return tempfile.TemporaryDirectory(prefix="dac-attack-cache-", ignore_cleanup_errors=True)


def split_tags(tags: list[str]) -> tuple[list[str], list[str]]:
    """ATT&CK tags of a Sigma rule -> (tactic shortnames, technique ids)."""
    tactics: list[str] = []
    techniques: list[str] = []
    for tag in tags:
        namespace, _, name = tag.partition(".")
        if namespace != "attack":
            continue
        if name[:1].lower() == "t" and name[1:2].isdigit():
            techniques.append(name.upper())
        elif not (name[:1].lower() in "gs" and name[1:2].isdigit()):
            tactics.append(name)
    return tactics, techniques
