"""pySigma's ATT&CK cache lives in a private folder that goes with the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SCRIPT = """
from converters import attack
from sigma.data import mitre_attack
attack.configure_pysigma_offline()
attack.configure_pysigma_offline()
assert mitre_attack.mitre_attack_techniques, "ATT&CK data loaded from the repo's file"
"""


def test_cache_folder_is_one_per_process_and_removed_at_exit(tmp_path: Path) -> None:
    # Every build, golden check and hunt configures pySigma: a folder left each time filled /tmp.
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


def test_cache_folder_exists_while_the_process_runs(tmp_path: Path) -> None:
    script = _SCRIPT + "import os, sys; print(len(os.listdir(sys.argv[1])))"
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
