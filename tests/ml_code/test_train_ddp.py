"""Data-parallel training for real: two CPU processes under torchrun (gloo), as torch_distributed runs it."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from tests.ml_code.training_fixtures import FAST_TRAINING, sample_splits, training_env

PER_DEVICE_BATCH = 8
PROCESSES = 2


def _rows(folder: Path) -> int:
    return sum(pq.read_metadata(path).num_rows for path in folder.glob("part-*.parquet"))


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory, tiny_roberta):
    splits = sample_splits(tmp_path_factory, tiny_roberta)
    run = tmp_path_factory.mktemp("ddp")
    # A quarter epoch keeps it short; the step count still shows how the data was sharded.
    args = [
        *FAST_TRAINING,
        "--model_name_or_path",
        str(tiny_roberta),
        "--epochs",
        "0.25",
        "--per_device_train_batch_size",
        str(PER_DEVICE_BATCH),
        "--eval_steps",
        "0",
        "--checkpoint_dir",
        str(run / "checkpoints"),
    ]
    # --standalone: a private rendezvous on a free local port, so parallel test runs do not collide.
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--standalone", f"--nproc_per_node={PROCESSES}"]
    result = subprocess.run(
        [*torchrun, "ml_code/train.py", *args], cwd=ROOT, env=training_env(run, splits), capture_output=True, text=True
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-5000:]
    return run, log, splits


def test_two_processes_share_each_global_batch(ddp_run):
    run, log, splits = ddp_run
    history = json.loads((run / "output" / "training_history.json").read_text())
    config = history["effective_configuration"]
    assert config["world_size"] == PROCESSES
    assert config["effective_batch_size"] == PER_DEVICE_BATCH * PROCESSES
    # One process alone would need twice the steps for the same quarter epoch.
    batches_per_process = math.ceil(_rows(splits / "train") / PER_DEVICE_BATCH / PROCESSES)
    assert history["global_step"] == math.ceil(0.25 * batches_per_process)


def test_only_rank_zero_logs_metrics_and_writes_the_model(ddp_run):
    run, log, _ = ddp_run
    steps = re.findall(r"\[metrics\] step=(\d+) .*train_loss=", log)
    assert steps and len(steps) == len(set(steps))  # one line per step, not one per rank
    assert log.count("effective configuration: ") == 1
    assert (run / "model" / "model.safetensors").is_file()
    assert (run / "model" / "code" / "inference.py").is_file()
