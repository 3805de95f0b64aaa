"""The sigma-cli plugin: every pipeline it exposes is named, described, listed by
`sigma list pipelines` and converts a rule with `sigma convert` and its backend."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from sigma.processing.pipeline import ProcessingPipeline

from converters.pipelines.plugin import BACKENDS, pipelines
from converters.sources import SOURCES, DataSource, source_by_name

SIGMA = Path(sys.executable).parent / "sigma"
PROBE = "dac-probe.example"


def _target(name: str) -> str:
    return name.split("_")[1]  # dac_<target>[_<source>]


def _source(name: str) -> DataSource | None:
    rest = name.split("_", 2)[2:] if name.count("_") >= 2 else []
    return source_by_name(rest[0]) if rest else None


def test_every_pipeline_is_named_and_described() -> None:
    assert set(pipelines) == {
        *(f"dac_{t}_{s.name}" for t in ("splunk", "elastic") for s in SOURCES),
        "dac_elastic",
        "dac_sqlite",
    }
    for name, factory in pipelines.items():
        pipeline = factory()
        assert isinstance(pipeline, ProcessingPipeline)
        assert pipeline.name and pipeline.name.startswith("dac-t1585 "), name
        assert factory.__doc__ and len(factory.__doc__) > 40, name
        assert pipeline.allowed_backends == BACKENDS[_target(name)], name
        assert pipeline.priority == 20, name


def test_sigma_list_pipelines_shows_every_pipeline() -> None:
    """It crashed on a pipeline without a name (textwrap of None)."""
    result = subprocess.run(
        [str(SIGMA), "list", "pipelines"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if "|" in line}
    for name in pipelines:
        assert name in rows, f"{name} not listed:\n{result.stdout}"
        cells = [cell.strip() for cell in rows[name].split("|")]
        assert cells[3].startswith("dac-t1585"), rows[name]
        assert cells[5] == "dac", rows[name]  # the plugin column: sigma/pipelines/dac


def _probe_rule(folder: Path, source: DataSource) -> Path:
    rule = {
        "title": f"probe {source.name}",
        "id": f"00000000-0000-4000-8000-{SOURCES.index(source):012d}",
        "status": "test",
        "logsource": source.logsource,
        "detection": {"sel": {source.fields[0].sigma: PROBE}, "condition": "sel"},
    }
    path = folder / f"{source.name}.yml"
    path.write_text(yaml.safe_dump(rule), encoding="utf-8")
    return path


def _expected(name: str, source: DataSource) -> list[str]:
    """What the query of ``source``'s probe holds: how the target scopes it to the source,
    the probed field under the target's name, the value."""
    field = source.fields[0]
    target = _target(name)
    if target == "splunk":
        return [f"`{source.splunk_macro}`", field.splunk, PROBE]
    if target == "elastic":
        return [f'event.dataset:"{source.elastic_dataset}"', field.elastic, PROBE]
    return ["'" + source.name.replace("_", "\\_") + "'", field.sigma, PROBE]


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("probes")
    for source in SOURCES:
        _probe_rule(folder, source)
    return folder


def _convert(name: str, folder: Path) -> tuple[int, str]:
    """`sigma convert` (the installed command) with the pipeline and a backend it allows: a
    rule of its own source for a per-source pipeline, every source's for the others."""
    source = _source(name)
    argument = folder / f"{source.name}.yml" if source else folder
    backend = {"splunk": "splunk", "elastic": "eql", "sqlite": "sqlite"}[_target(name)]
    command = [str(SIGMA), "convert", "-t", backend, "-p", name, str(argument)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def conversions(probes: Path) -> dict[str, tuple[int, str]]:
    """Every pipeline's conversion, a process per pipeline, as many at once as CPUs."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return dict(zip(pipelines, pool.map(lambda n: _convert(n, probes), pipelines), strict=True))


@pytest.mark.parametrize("name", sorted(pipelines))
def test_sigma_convert_with_each_pipeline(
    name: str, conversions: dict[str, tuple[int, str]]
) -> None:
    code, stdout = conversions[name]
    assert code == 0, stdout
    queries = [line for line in stdout.splitlines() if PROBE in line]
    source = _source(name)
    probed = [source] if source else list(SOURCES)
    assert len(queries) == len(probed), stdout
    for one in probed:
        expected = _expected(name, one)
        assert any(all(text in query for text in expected) for query in queries), (
            f"{name}: no query of {one.name} holds {expected}:\n{stdout}"
        )
