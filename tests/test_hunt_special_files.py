"""`dac hunt` refuses what is no regular file (a named pipe, a device, a socket) before it
opens it, whether named or found in a folder: opening a FIFO with no writer blocked forever,
and /dev/zero never ends. A usage error naming each one, exit 2."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from converters.hunt import readers
from converters.hunt.readers import InputError, not_a_file, open_log
from converters.hunt.selection import Sorted, file_formats, log_files

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "m365_management_activity.json"

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "live.json"
    os.mkfifo(path)
    yield path
    _release(path)


def _release(path: Path) -> None:
    """Let a reader blocked on the pipe go (when a test failed), so no thread hangs on."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # no reader waiting
    os.close(fd)


def _within(seconds: float, path: Path, call: object) -> object:
    """call() in a thread; what it returned or raised, failing if it blocks."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(call())  # type: ignore[operator]
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _release(path)
        pytest.fail(f"blocked on {path}")
    return outcome[0]


def test_modes_that_are_no_regular_file() -> None:
    assert not_a_file(stat.S_IFREG | 0o644) is None
    assert not_a_file(stat.S_IFIFO | 0o644) == "a named pipe (FIFO)"
    assert not_a_file(stat.S_IFCHR) == "a character device"
    assert not_a_file(stat.S_IFBLK) == "a block device"
    assert not_a_file(stat.S_IFSOCK) == "a socket"


def test_a_pipe_is_refused_without_blocking(fifo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _within(10, fifo, lambda: file_formats([fifo], lenient=[fifo]))
    assert isinstance(found, Sorted) and found.found == [] and found.passed_over == []
    assert found.problems == [
        f"{fifo}: a named pipe (FIFO), not a regular file: dac hunt reads log files only"
    ]
    # Replaced by a pipe after it was listed: opened without blocking, refused once open.
    monkeypatch.setattr(readers, "check_file", lambda path: None)
    refused = _within(10, fifo, lambda: open_log(fifo))
    assert isinstance(refused, InputError) and "named pipe" in str(refused)


def test_pipes_devices_and_sockets_are_refused_by_name(tmp_path: Path, fifo: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "ual.json")
    inner = folder / "stream.log"
    os.mkfifo(inner)
    named: list[Path] = [fifo, folder]
    sock = tmp_path / "s.sock"
    server = None
    if len(str(sock)) < 100:  # AF_UNIX paths are short
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(sock))
        named.append(sock)
    if Path("/dev/null").exists():
        named.append(Path("/dev/null"))
    assert set(log_files([folder])) == {folder / "ual.json", inner}
    dac = Path(sys.executable).parent / "dac"
    try:
        result = subprocess.run(
            [dac, "hunt", "--root", REPO, *named],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        _release(inner)
        if server is not None:
            server.close()
    assert result.returncode == 2, result.stdout + result.stderr
    errors = " ".join(result.stderr.split())
    assert f"{fifo}: a named pipe (FIFO), not a regular file" in errors
    assert f"{inner}: a named pipe (FIFO), not a regular file" in errors
    if server is not None:
        assert f"{sock}: a socket, not a regular file" in errors
    if Path("/dev/null") in named:
        assert "/dev/null: a character device, not a regular file" in errors
    assert f"{folder / 'ual.json'}" not in errors  # the regular file is fine
