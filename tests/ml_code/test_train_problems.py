"""Training-problem checks: each one triggered by a history that has the problem and quiet on one without."""

from __future__ import annotations

import math

import pytest
from transformers import TrainerControl, TrainerState

from ml_code import train
from ml_code.training import problems
from ml_code.training.callbacks import TrainingProblemCallback
from tests.ml_code.training_fixtures import (  # noqa: F401 (share_cores: autouse)
    FAST_TRAINING,
    sample_splits,
    share_cores,
)

FALLING = [1.10, 1.05, 1.00, 0.95, 0.90, 0.85, 0.80, 0.75, 0.70, 0.65]
NOISY_BUT_FALLING = [1.10, 1.12, 1.02, 1.05, 0.97, 0.90, 0.93, 0.86, 0.88, 0.81]


@pytest.mark.parametrize(
    "losses",
    [
        [1.10] * 10,  # flat: learning rate too low or frozen weights
        [0.70, 0.72, 0.69, 0.71, 0.70, 0.71, 0.72, 0.70, 0.71, 0.73],  # plateau with noise
        list(reversed(FALLING)),  # diverging
    ],
)
def test_loss_not_decreasing_triggers_on_flat_or_rising_loss(losses):
    assert problems.loss_not_decreasing(losses)


@pytest.mark.parametrize("losses", [FALLING, NOISY_BUT_FALLING, [1.1] * 9])  # the last: too little history yet
def test_loss_not_decreasing_is_quiet_while_loss_falls(losses):
    assert not problems.loss_not_decreasing(losses)


def test_overfitting_triggers_when_validation_loss_rises_while_training_loss_falls():
    assert problems.overfitting(train_losses=[0.9, 0.6, 0.4, 0.2], eval_losses=[0.8, 0.7, 0.75, 0.82])


@pytest.mark.parametrize(
    ("train_losses", "eval_losses"),
    [
        ([0.9, 0.6, 0.4, 0.2], [0.8, 0.7, 0.65, 0.6]),  # both fall: learning
        ([0.9, 0.6, 0.4, 0.2], [0.8, 0.7, 0.75, 0.72]),  # one bump is noise, not a trend
        ([0.4, 0.5, 0.6, 0.7], [0.8, 0.9, 1.0, 1.1]),  # both rise: divergence, not overfitting
        ([0.9, 0.6], [0.8, 0.9]),  # too few evaluations
    ],
)
def test_overfitting_is_quiet_otherwise(train_losses, eval_losses):
    assert not problems.overfitting(train_losses, eval_losses)


@pytest.mark.parametrize(
    ("grad_norms", "losses"),
    [([1.2, 3.4, 5e4], [0.9]), ([1.2, math.inf], [0.9]), ([1.2, math.nan], [0.9]), ([1.2], [math.nan])],
)
def test_exploding_gradients_trigger_on_huge_or_non_finite_values(grad_norms, losses):
    assert problems.exploding_gradients(grad_norms, losses)


@pytest.mark.parametrize(("grad_norms", "losses"), [([0.5, 8.0, 40.0], [0.7]), ([], [])])
def test_exploding_gradients_quiet_on_normal_norms(grad_norms, losses):
    assert not problems.exploding_gradients(grad_norms, losses)


def test_vanishing_gradients_trigger_when_norms_stay_near_zero():
    assert problems.vanishing_gradients([0.5, 1e-9, 0.0, 3e-8])


@pytest.mark.parametrize("grad_norms", [[0.5, 0.2, 0.01], [0.5, 1e-9, 0.3, 1e-9, 1e-9], [1e-9, 1e-9]])
def test_vanishing_gradients_quiet_on_small_but_live_norms_or_short_dips(grad_norms):
    assert not problems.vanishing_gradients(grad_norms)


def _replay(callback: TrainingProblemCallback, logs: list[dict]) -> TrainerControl:
    state, control = TrainerState(), TrainerControl()
    for step, entry in enumerate(logs, start=1):
        state.global_step = step
        callback.on_log(None, state, control, logs=entry)
    return control


@pytest.mark.parametrize("stop", [True, False])
def test_callback_reports_a_problem_once_and_stops_only_when_asked(stop):
    callback = TrainingProblemCallback(stop_on_problem=stop)
    logs = [{"loss": 0.9, "grad_norm": 1.0}, {"loss": 0.8, "grad_norm": 2e5}, {"loss": math.nan, "grad_norm": math.nan}]
    control = _replay(callback, logs)
    assert [(p.name, p.step) for p in callback.found] == [("exploding_gradients", 2)]
    assert control.should_training_stop is stop


def test_callback_sees_overfitting_across_evaluations():
    callback = TrainingProblemCallback(stop_on_problem=False)
    logs = []
    for train_loss, eval_loss in [(0.9, 0.8), (0.6, 0.7), (0.4, 0.75), (0.2, 0.82)]:
        logs += [{"loss": train_loss, "grad_norm": 1.0}, {"eval_loss": eval_loss}]
    _replay(callback, logs)
    assert [p.name for p in callback.found] == ["overfitting"]


def test_a_real_run_with_a_runaway_learning_rate_is_stopped_early(tmp_path_factory, tiny_roberta, tmp_path):
    splits = sample_splits(tmp_path_factory, tiny_roberta)
    args = train.parse_args(
        [
            *FAST_TRAINING,
            "--model_name_or_path",
            str(tiny_roberta),
            "--learning_rate",
            "1e4",
            "--logging_steps",
            "1",
            "--max_steps",
            "30",
            "--stop_on_training_problem",
            "true",
            "--train_dir",
            str(splits / "train"),
            "--validation_dir",
            str(splits / "validation"),
            "--model_dir",
            str(tmp_path / "model"),
            "--output_data_dir",
            str(tmp_path / "output"),
            "--checkpoint_dir",
            str(tmp_path / "checkpoints"),
        ]
    )
    history = train.train(args)
    assert [p["name"] for p in history["training_problems"]][:1] == ["exploding_gradients"]
    assert history["global_step"] < 30
