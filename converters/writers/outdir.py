"""The output folder of `dac build`: which folders it may replace, and the swap that replaces
one. A build replaces its output whole, so pointing it at the wrong folder would delete that
folder; only an empty folder or one a previous build wrote (its manifest says so, and nothing
else was added to it) is ever replaced."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from converters.errors import DacError, Problem

MANIFEST = "manifest.json"
GENERATOR = "dac-t1585"
# What builds that predate the manifest's file list wrote at the top of the folder.
_LEGACY_TOP_LEVEL = frozenset(
    {
        "splunk",
        "elastic",
        "playbooks",
        "sigma",
        MANIFEST,
        "coverage.md",
        "attack-navigator-layer.json",
    }
)


def _refuse(out: Path, reason: str) -> DacError:
    return DacError([Problem(out, f"--out refused: {reason}; nothing was written")])


def _is_within(path: Path, other: Path) -> bool:
    return path == other or path.is_relative_to(other)


def check_out(out: Path, protected: Iterable[Path], sources: Iterable[Path]) -> Path:
    """The absolute output folder, or DacError when a build must not replace it.

    ``protected`` are the project's own folders and files (root, rules, playbook, lists): the
    output may be none of them and hold none of them. ``sources`` are folders the build reads
    whole (the rules): an output inside one would be read back as input."""
    out = out.expanduser().resolve()
    home = Path.home().resolve()
    if out.parent == out:
        raise _refuse(out, "the filesystem root")
    if _is_within(home, out):
        raise _refuse(out, "the home folder or a folder holding it")
    for path in protected:
        path = path.resolve()
        if _is_within(path, out):
            raise _refuse(out, f"it is or holds the project's {path}")
    for path in sources:
        path = path.resolve()
        if _is_within(out, path):
            raise _refuse(out, f"it lies inside {path}, which the build reads")
    if not out.exists():
        if out.is_symlink():
            raise _refuse(out, "a symbolic link to nothing")
        return out
    if not out.is_dir():
        raise _refuse(out, "it exists and is not a folder")
    strays = list(_strays(out))
    if strays:
        shown = ", ".join(strays[:5]) + (f" and {len(strays) - 5} more" if len(strays) > 5 else "")
        raise _refuse(
            out,
            f"it holds files that `dac build` did not write ({shown}); build into a new or "
            "empty folder, or move them away",
        )
    return out


def _strays(out: Path) -> Iterator[str]:
    """What in ``out`` a previous build did not write; everything when there is no manifest of
    ours. An empty folder has none."""
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return
    written = _manifest_files(out / MANIFEST)
    if written is None:
        yield from entries
        return
    if written is _UNLISTED:  # an older build's manifest: it listed no files
        yield from (name for name in entries if name not in _LEGACY_TOP_LEVEL)
        return
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(f.startswith(relative + "/") for f in written):
                yield relative + "/"
        elif relative != MANIFEST and relative not in written:
            yield relative


_UNLISTED: frozenset[str] = frozenset()


def _manifest_files(path: Path) -> frozenset[str] | None:
    """The files a build's manifest lists (``_UNLISTED`` for a manifest without the list);
    None when ``path`` is no manifest of ours."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    generator = manifest.get("generator")
    if not isinstance(generator, str) or generator.split(" ")[0] != GENERATOR:
        return None
    if "files" not in manifest:
        return _UNLISTED
    files = manifest["files"]
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return frozenset(files)


def listed_files(folder: Path) -> list[str]:
    """Every file under ``folder`` as the manifest lists it (relative, POSIX separators)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@contextmanager
def staging_for(out: Path) -> Iterator[Path]:
    """A new empty folder beside ``out`` (same filesystem, so the swap is a rename), created
    with the user's umask like any folder; removed unless it was swapped in."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = out.parent / f".{out.name}.building-{secrets.token_hex(6)}"
        staging.mkdir()
    except OSError as exc:
        raise DacError([Problem(out, f"cannot create the output folder: {exc.strerror}")]) from exc
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, out: Path) -> None:
    """Replace ``out`` with ``staging`` by two renames; on failure ``out`` is as it was."""
    old: Path | None = None
    try:
        if out.exists():
            old = out.parent / f".{out.name}.old-{secrets.token_hex(6)}"
            out.rename(old)
        staging.rename(out)
    except OSError as exc:
        if old is not None and not out.exists():
            old.rename(out)
        raise DacError([Problem(out, f"cannot replace the output folder: {exc}")]) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
