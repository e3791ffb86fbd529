"""Whole local pipeline runs on a slice of the sample data, shared by the e2e tests."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

from local_runner.cli import main
from tests.conftest import SAMPLE_DATA

ROWS = 360  # ~18 test and validation reviews each after the 90/5/5 split: enough for every step
FAST = ["--param", "Epochs=1", "--param", "MaxSeqLength=32", "--param", "BatchSize=16"]


def write_small_csv(path: Path, rows: int = ROWS) -> Path:
    with gzip.open(SAMPLE_DATA, "rt", encoding="utf-8", newline="") as source, open(path, "w", newline="") as target:
        reader = csv.reader(source)
        writer = csv.writer(target)
        writer.writerow(next(reader))
        for _, row in zip(range(rows), reader, strict=False):
            writer.writerow(row)
    return path


def run_locally(root: Path, tiny_roberta: Path, data: Path, *params: str) -> tuple[int, dict, Path]:
    """(exit code, run.json, run folder) of `local_runner run` with FAST, then ``params``."""
    code = main(["run", "--root", str(root), "--base-model", str(tiny_roberta), "--input", str(data), *FAST, *params])
    (run_dir,) = (root / "runs").iterdir()
    return code, json.loads((run_dir / "run.json").read_text()), run_dir
