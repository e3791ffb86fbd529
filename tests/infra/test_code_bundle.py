"""ml_code ships as a deterministic tar.gz: same source, same bytes (and CDK asset hash)."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from infra.pipeline.code_bundle import PACKAGE, build_code_bundle


def test_same_source_gives_identical_bytes(tmp_path):
    first = build_code_bundle(tmp_path / "a").read_bytes()
    second = build_code_bundle(tmp_path / "b").read_bytes()
    assert first == second


def test_archive_holds_the_package_sorted_with_fixed_metadata_and_no_caches(tmp_path):
    package = tmp_path / "ml_code"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    with tarfile.open(build_code_bundle(tmp_path / "out", package)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert "ml_code/common/labels.py" in names and "ml_code/common/splits.py" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {(0, 0, 0, "")}


def test_changed_source_changes_the_bytes(tmp_path):
    package = tmp_path / "ml_code"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = build_code_bundle(tmp_path / "a", package).read_bytes()
    (package / "common" / "labels.py").write_text(Path(package / "common" / "labels.py").read_text() + "\n# changed\n")
    assert build_code_bundle(tmp_path / "b", package).read_bytes() != before
