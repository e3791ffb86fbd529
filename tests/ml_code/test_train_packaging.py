"""model.tar.gz as SageMaker builds it from SM_MODEL_DIR, built locally: layout, determinism, safety."""

from __future__ import annotations

import io
import tarfile

import pytest

from ml_code.training.packaging import build_model_tar, extract_model_tar, resolve_model_dir
from tests.ml_code.training_fixtures import trained_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_roberta):
    return trained_run(tmp_path_factory, tiny_roberta)


def test_members_sit_at_the_archive_root_with_code_beside_the_model(trained):
    with tarfile.open(trained / "model.tar.gz") as tar:
        names = set(tar.getnames())
        infos = tar.getmembers()
    assert {"config.json", "model.safetensors", "tokenizer.json", "code/inference.py", "code/requirements.txt"} <= names
    assert "code/ml_code/common/labels.py" in names
    assert not any(n.startswith(("/", "./", "model/")) or "__pycache__" in n for n in names)
    assert all(i.mtime == 0 and i.uid == 0 and i.uname == "" for i in infos)


def test_same_model_dir_gives_the_same_bytes(trained, tmp_path):
    first = build_model_tar(trained / "model", tmp_path / "a" / "model.tar.gz").read_bytes()
    second = build_model_tar(trained / "model", tmp_path / "b" / "model.tar.gz").read_bytes()
    assert first == second == (trained / "model.tar.gz").read_bytes()


def test_round_trip_restores_every_file(trained, tmp_path):
    unpacked = extract_model_tar(trained / "model.tar.gz", tmp_path / "unpacked")
    original = {p.relative_to(trained / "model"): p.read_bytes() for p in (trained / "model").rglob("*") if p.is_file()}
    restored = {p.relative_to(unpacked): p.read_bytes() for p in unpacked.rglob("*") if p.is_file()}
    assert restored == original


def test_only_saved_models_are_packed(tmp_path):
    with pytest.raises(ValueError, match="not a saved model"):
        build_model_tar(tmp_path, tmp_path / "model.tar.gz")


def test_extraction_refuses_paths_outside_the_destination(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"pwned"
        info = tarfile.TarInfo("../outside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(tarfile.OutsideDestinationError):
        extract_model_tar(evil, tmp_path / "dest")
    assert not (tmp_path / "outside.txt").exists()


def test_a_model_dir_a_tar_or_a_folder_holding_the_tar_all_resolve(trained, tmp_path):
    assert resolve_model_dir(trained / "model", tmp_path / "unused") == trained / "model"
    from_tar = resolve_model_dir(trained / "model.tar.gz", tmp_path / "one")
    holder = tmp_path / "processing-input"
    holder.mkdir()
    (holder / "model.tar.gz").write_bytes((trained / "model.tar.gz").read_bytes())
    from_folder = resolve_model_dir(holder, tmp_path / "two")
    assert (from_tar / "code" / "inference.py").is_file() and (from_folder / "config.json").is_file()
    with pytest.raises(ValueError, match="expected a model directory"):
        resolve_model_dir(tmp_path / "empty-dir-that-does-not-exist", tmp_path / "three")
