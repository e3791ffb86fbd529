"""ml_code packed as a deterministic tar.gz, the form SageMaker's framework containers want.

Same source, same bytes, same CDK asset hash: entries sorted, mtimes and owners fixed, no
gzip timestamp, caches left out. The archive holds the ``ml_code/`` folder itself, so
scripts run as ``python ml_code/<script>.py`` import ``ml_code...`` from its root.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ml_code"
_SKIP_DIRS = {"__pycache__", ".pytest_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def _files(package: Path) -> list[Path]:
    return sorted(
        path
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix not in _SKIP_SUFFIXES
        and not _SKIP_DIRS.intersection(part for part in path.relative_to(package).parts)
    )


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


def build_code_bundle(out_dir: Path, package: Path = PACKAGE) -> Path:
    """Write ``<out_dir>/ml_code.tar.gz`` and return its path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _files(package):
            arcname = f"{package.name}/{path.relative_to(package).as_posix()}"
            tar.addfile(_normalised(tar.gettarinfo(str(path), arcname)), io.BytesIO(path.read_bytes()))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{package.name}.tar.gz"
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue())
    return target
