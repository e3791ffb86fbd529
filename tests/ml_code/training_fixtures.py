"""Expensive training artifacts, built once per test session and shared by modules and xdist workers.

Pytest builds a session fixture once per module that imports it and once per xdist worker,
so the artifacts are built here under a file lock in the session's shared temp folder and
each test module's fixture just asks for the finished folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from tests.conftest import ROOT, SAMPLE_DATA
from tests.ml_code.split_fixtures import write_splits

# Flags shared by every test training run: tiny batches, a learning rate for a model
# trained from scratch, evaluation and checkpoints often enough to see several.
FAST_TRAINING = [
    "--per_device_train_batch_size",
    "16",
    "--per_device_eval_batch_size",
    "64",
    "--learning_rate",
    "2e-3",
    "--warmup_ratio",
    "0.05",
    "--logging_steps",
    "5",
    "--eval_steps",
    "10",
    "--early_stopping_patience",
    "0",
]
TRAINED_STEPS = 30


# One torch thread per process. The suite runs as many workers as cores (-n 2 on 2 cores), and
# with more OpenMP threads than free cores they spin against each other: a training step of
# the tiny model then takes seconds instead of ~50 ms.
TORCH_THREADS = 1


@pytest.fixture(scope="module", autouse=True)
def share_cores():
    """Autouse in every module that imports it: in-process torch keeps to TORCH_THREADS."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(TORCH_THREADS)
    yield
    torch.set_num_threads(before)


def build_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """``build(folder)`` runs once per session, whichever worker gets here first; the rest wait."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by all workers of this session
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            done.touch()
    return folder


def tiny_model_copy(tiny_roberta: Path, folder: Path) -> Path:
    """Shared artifacts must not point into one worker's private temp folder."""
    return Path(shutil.copytree(tiny_roberta, folder / "tiny-roberta"))


def sample_splits(tmp_path_factory, tiny_roberta: Path) -> Path:
    """train/validation/test folders from the sample data (1680/210/210 reviews, balanced classes)."""
    from transformers import AutoTokenizer

    def build(folder: Path) -> None:
        write_splits(SAMPLE_DATA, folder, AutoTokenizer.from_pretrained(str(tiny_roberta)))

    return build_once(tmp_path_factory, "sample-splits", build)


def train_command(script_args: list[str]) -> list[str]:
    """train.py as the training container runs it: as a script, by path, from the code folder."""
    return [sys.executable, "ml_code/train.py", *script_args]


def training_env(root: Path, splits: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SM_CHANNEL_TRAIN=str(splits / "train"),
        SM_CHANNEL_VALIDATION=str(splits / "validation"),
        SM_MODEL_DIR=str(root / "model"),
        SM_OUTPUT_DATA_DIR=str(root / "output"),
        OMP_NUM_THREADS=str(TORCH_THREADS),
    )
    env.pop("SM_CHANNEL_MODEL", None)
    return env


def trained_run(tmp_path_factory, tiny_roberta: Path) -> Path:
    """A real short training run of ml_code/train.py; its folder holds model/, output/, checkpoints/,
    model.tar.gz and train.log (the script's stdout and stderr)."""
    from ml_code.training.packaging import build_model_tar

    splits = sample_splits(tmp_path_factory, tiny_roberta)

    def build(folder: Path) -> None:
        model = tiny_model_copy(tiny_roberta, folder)
        args = ["--model_name_or_path", str(model), "--max_steps", str(TRAINED_STEPS), *FAST_TRAINING]
        args += ["--checkpoint_dir", str(folder / "checkpoints")]
        result = subprocess.run(
            train_command(args), cwd=ROOT, env=training_env(folder, splits), capture_output=True, text=True
        )
        (folder / "train.log").write_text(result.stdout + result.stderr)
        assert result.returncode == 0, f"train.py failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        build_model_tar(folder / "model", folder / "model.tar.gz")

    return build_once(tmp_path_factory, "trained-run", build)
