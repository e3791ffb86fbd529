"""The model artifact: the inference code inside the model directory, and model.tar.gz.

The Hugging Face inference container expects model.tar.gz with the model and tokenizer at
the root and ``code/inference.py`` (+ ``code/requirements.txt``); the toolkit puts
``code/`` on sys.path, so ``code/ml_code/common`` makes ``from ml_code.common...`` work there.
SageMaker tars SM_MODEL_DIR itself; ``build_model_tar`` does the same for local runs.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
from pathlib import Path

ML_CODE = Path(__file__).resolve().parent.parent
MODEL_TAR = "model.tar.gz"
# Source (relative to ml_code/) -> destination (relative to the model directory).
INFERENCE_CODE: dict[str, str] = {
    "inference.py": "code/inference.py",
    "requirements.txt": "code/requirements.txt",
    "__init__.py": "code/ml_code/__init__.py",
    "common": "code/ml_code/common",
}


def write_inference_code(model_dir: Path) -> None:
    """Copy the handler and what it imports into ``model_dir/code``."""
    for source, destination in INFERENCE_CODE.items():
        src, dst = ML_CODE / source, Path(model_dir) / destination
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dst)


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # Same bytes for the same files: no timestamps, owners or local permissions in the archive.
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def build_model_tar(model_dir: Path, tar_path: Path) -> Path:
    """model.tar.gz of ``model_dir`` (members relative to it, as SageMaker packs SM_MODEL_DIR), deterministic."""
    model_dir, tar_path = Path(model_dir), Path(tar_path)
    if not (model_dir / "config.json").is_file():
        raise ValueError(f"{model_dir} is not a saved model (no config.json)")
    tar_path.parent.mkdir(parents=True, exist_ok=True)
    paths = sorted(
        p for p in model_dir.rglob("*") if "__pycache__" not in p.parts and p.resolve() != tar_path.resolve()
    )
    with (
        open(tar_path, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in paths:
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False, filter=_normalised)
    return tar_path


def extract_model_tar(tar_path: Path, destination: Path) -> Path:
    """Unpack model.tar.gz; the "data" filter rejects absolute paths, links out and device files."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path, "r:gz") as tar:
        tar.extractall(destination, filter="data")
    return destination


def resolve_model_dir(path: Path, scratch: Path) -> Path:
    """A saved-model directory from a model directory, a model.tar.gz, or a folder holding model.tar.gz."""
    path = Path(path)
    if path.is_dir() and (path / "config.json").is_file():
        return path
    tar_path = path / MODEL_TAR if path.is_dir() else path
    if tar_path.is_file() and tar_path.name.endswith(".tar.gz"):
        return extract_model_tar(tar_path, scratch)
    raise ValueError(f"{path}: expected a model directory (with config.json), a {MODEL_TAR}, or a folder holding one")
