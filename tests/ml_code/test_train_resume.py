"""Managed Spot: a run killed mid-way resumes from its latest checkpoint and ends where an uninterrupted run ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import TrainerCallback

from ml_code import train
from tests.ml_code.training_fixtures import (  # noqa: F401 (share_cores: autouse)
    FAST_TRAINING,
    sample_splits,
    share_cores,
)

STEPS, CHECKPOINT_EVERY, KILLED_AT = 12, 4, 7


class Interruption(Exception):
    pass


class KillAtStep(TrainerCallback):
    """Dies like a reclaimed Spot instance: abruptly, after the step, with no save of its own."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise Interruption(f"killed at step {self.step}")


def _args(tiny_roberta: Path, splits: Path, run: Path):
    return train.parse_args(
        [
            *FAST_TRAINING,
            "--model_name_or_path",
            str(tiny_roberta),
            "--max_steps",
            str(STEPS),
            "--eval_steps",
            str(CHECKPOINT_EVERY),
            "--logging_steps",
            "1",
            "--train_dir",
            str(splits / "train"),
            "--validation_dir",
            str(splits / "validation"),
            "--model_dir",
            str(run / "model"),
            "--output_data_dir",
            str(run / "output"),
            "--checkpoint_dir",
            str(run / "checkpoints"),
        ]
    )


def _losses(history: dict) -> dict[int, float]:
    return {entry["step"]: entry["loss"] for entry in history["log_history"] if "loss" in entry}


def test_restart_resumes_from_the_latest_checkpoint_and_matches_an_uninterrupted_run(
    tmp_path_factory, tiny_roberta, tmp_path
):
    splits = sample_splits(tmp_path_factory, tiny_roberta)
    uninterrupted = train.train(_args(tiny_roberta, splits, tmp_path / "straight"))

    interrupted = _args(tiny_roberta, splits, tmp_path / "spot")
    with pytest.raises(Interruption):
        train.train(interrupted, extra_callbacks=(KillAtStep(KILLED_AT),))
    assert not (tmp_path / "spot" / "model").exists()  # nothing was exported by the dead run
    assert train.latest_checkpoint(interrupted.checkpoint_dir).endswith("checkpoint-4")

    resumed = train.train(interrupted)
    assert resumed["resumed_from"].endswith("checkpoint-4")
    assert resumed["global_step"] == uninterrupted["global_step"] == STEPS
    # Same optimizer, scheduler, RNG and data position: steps 5..12 repeat the uninterrupted run's losses.
    after_resume = {step: loss for step, loss in _losses(resumed).items() if step > 4}
    assert sorted(after_resume) == list(range(5, STEPS + 1))
    assert after_resume == pytest.approx({s: _losses(uninterrupted)[s] for s in after_resume}, abs=1e-3)
    assert (tmp_path / "spot" / "model" / "code" / "inference.py").is_file()
