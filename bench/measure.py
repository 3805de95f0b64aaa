"""One measurement of the hunt benchmark, in a fresh process of its own (so that its CPU time
and its peak memory are its own): `dac hunt` end to end, orjson decode-only of the same files,
or the simple way (bench/baseline.py).

    .venv/bin/python bench/measure.py KIND FILE... -> one JSON object on stdout

CPU seconds are the process's own (``time.process_time``: user + system, from its start, so
imports and rule compilation count); peak memory is its high-water mark of resident memory.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss
    over exec, so a child would report the parent's peak (the corpus generator's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decode_only(paths: list[Path]) -> dict[str, Any]:
    """Every line decoded with orjson, nothing else: the floor any reader of these files has."""
    events = 0
    loads = orjson.loads
    for path in paths:
        with path.open("rb") as stream:
            for line in stream:
                loads(line)
                events += 1
    return {"events": events, "rows": events, "alerts": []}


def hunt(paths: list[Path]) -> dict[str, Any]:
    """`dac hunt --out` with every rule, as the CLI runs it: rules loaded and compiled, files
    read, every rule run, the alerts made one per incident, each one's playbook rendered,
    the JSONL written. ``alerts``: the engine's, one per hit (what the simple way finds)."""
    from converters.domains import load_domains
    from converters.hunt.output import reported_incidents, write_jsonl
    from converters.hunt.run import Hunter
    from converters.hunt.selection import file_formats, select_rules
    from converters.loading.rules import load_rules
    from converters.playbook.model import load_playbook

    ruleset = load_rules(ROOT / "sigma_rules")
    domains = load_domains(ROOT)
    playbook = load_playbook(ROOT / "playbooks" / "T1585.002.yml")
    chosen = file_formats(paths)
    if chosen.problems:
        raise SystemExit("\n".join(chosen.problems))
    result = Hunter(ruleset, domains, select_rules(ruleset)).run(chosen.found)
    alerts = [(a.doc.name, sorted(str(e.event_id) for e in a.evidence)) for a in result.alerts]
    reported = reported_incidents(result, ruleset, playbook)
    with tempfile.TemporaryDirectory() as scratch:
        write_jsonl(Path(scratch) / "alerts.jsonl", reported)
    written = len(reported)
    return {"events": result.events, "rows": result.rows, "alerts": alerts, "written": written}


def simple(paths: list[Path]) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    from baseline import run_baseline

    from converters.domains import load_domains
    from converters.loading.rules import load_rules

    ruleset = load_rules(ROOT / "sigma_rules")
    events, alerts = run_baseline(ruleset, load_domains(ROOT), paths)
    return {"events": events, "rows": events, "alerts": alerts}


KINDS = {"hunt": hunt, "decode": decode_only, "simple": simple}


def main() -> None:
    kind, paths = sys.argv[1], [Path(p) for p in sys.argv[2:]]
    measured = KINDS[kind](paths)
    measured["cpu"] = time.process_time()
    measured["peak_mb"] = peak_mb()
    print(json.dumps(measured))


if __name__ == "__main__":
    main()
