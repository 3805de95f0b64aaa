"""Stage 5 (Splunk): the app model -> the app folder and its .tgz."""

from __future__ import annotations

import csv
import gzip
import io
import tarfile
from pathlib import Path

from converters.artifacts.splunk import SplunkApp
from converters.writers.conf import conf_environment

_CONF_FILES = ("app.conf", "savedsearches.conf", "macros.conf", "transforms.conf")


def write_app(app: SplunkApp, out: Path, mtime: int) -> tuple[Path, Path]:
    """Write ``out/<app>/`` and ``out/<app>-<version>.tgz``; returns both paths."""
    env = conf_environment()
    folder = out / app.app_id
    (folder / "default").mkdir(parents=True)
    (folder / "metadata").mkdir()
    (folder / "lookups").mkdir()
    for name in _CONF_FILES:
        text = env.get_template(f"{name}.j2").render(app=app)
        (folder / "default" / name).write_text(text, encoding="utf-8")
    meta = env.get_template("default.meta.j2").render(app=app)
    (folder / "metadata" / "default.meta").write_text(meta, encoding="utf-8")
    for lookup in app.lookups:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(lookup.header)
        writer.writerows(lookup.rows)
        (folder / "lookups" / lookup.filename).write_text(buffer.getvalue(), encoding="utf-8")
    readme = env.get_template("README.txt.j2").render(app=app)
    (folder / "README.txt").write_text(readme, encoding="utf-8")
    archive = out / f"{app.app_id}-{app.version}.tgz"
    _tar(folder, archive, mtime)
    return folder, archive


def _tar(folder: Path, archive: Path, mtime: int) -> None:
    """A reproducible archive: sorted entries, fixed owner, mode and time, no gzip timestamp."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = [folder, *sorted(folder.rglob("*"))]
        for path in paths:
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder.parent)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = mtime
            info.mode = 0o755 if path.is_dir() else 0o644
            if path.is_file():
                with path.open("rb") as content:
                    tar.addfile(info, content)
            else:
                tar.addfile(info)
    with (
        archive.open("wb") as handle,
        gzip.GzipFile(filename="", mode="wb", fileobj=handle, mtime=0) as gz,
    ):
        gz.write(raw.getvalue())
