"""Trainer callbacks: stable metric lines, and training-problem reports (optionally stopping)."""

from __future__ import annotations

import logging

from transformers import TrainerCallback

from ml_code.training import problems
from ml_code.training.metric_definitions import format_metric_line

LOG = logging.getLogger("ml_code.train")


class MetricLogCallback(TrainerCallback):
    """Writes each training/evaluation log as one line the METRIC_DEFINITIONS regexes match."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        if "loss" in logs:
            values = {
                "train_loss": logs["loss"],
                "train_accuracy": logs.get("train_accuracy"),
                "learning_rate": logs.get("learning_rate"),
                "grad_norm": logs.get("grad_norm"),
            }
            LOG.info(format_metric_line(state.global_step, state.epoch, values))
        if "eval_loss" in logs:
            values = {"validation_loss": logs["eval_loss"], "validation_accuracy": logs.get("eval_accuracy")}
            LOG.info(format_metric_line(state.global_step, state.epoch, values))


class TrainingProblemCallback(TrainerCallback):
    """Runs the checks of ``problems`` on every log; reports each problem once, optionally stops.

    Every rank keeps the same history (Trainer logs gathered values on all ranks), so with
    stopping enabled all ranks stop at the same step and DDP does not hang.
    """

    def __init__(self, stop_on_problem: bool):
        self.stop_on_problem = stop_on_problem
        self.losses: list[float] = []
        self.grad_norms: list[float] = []
        self.train_losses_at_eval: list[float] = []
        self.eval_losses: list[float] = []
        self.found: list[problems.TrainingProblem] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "loss" in logs:
            self.losses.append(float(logs["loss"]))
            if "grad_norm" in logs:
                self.grad_norms.append(float(logs["grad_norm"]))
            self._check(state, control, problems.LOSS_NOT_DECREASING, problems.loss_not_decreasing(self.losses))
            self._check(
                state, control, problems.EXPLODING_GRADIENTS, problems.exploding_gradients(self.grad_norms, self.losses)
            )
            self._check(state, control, problems.VANISHING_GRADIENTS, problems.vanishing_gradients(self.grad_norms))
        if "eval_loss" in logs and self.losses:
            self.train_losses_at_eval.append(self.losses[-1])
            self.eval_losses.append(float(logs["eval_loss"]))
            found = problems.overfitting(self.train_losses_at_eval, self.eval_losses)
            self._check(state, control, problems.OVERFITTING, found)

    def _check(self, state, control, name: str, found: bool) -> None:
        if not found or any(p.name == name for p in self.found):
            return
        detail = (
            f"last losses {self.losses[-2 * problems.LOSS_WINDOW :]}, grad norms {self.grad_norms[-3:]}, "
            f"eval losses {self.eval_losses[-3:]}"
        )
        problem = problems.TrainingProblem(name, state.global_step, detail)
        self.found.append(problem)
        if state.is_world_process_zero:
            action = "stopping" if self.stop_on_problem else "continuing"
            LOG.warning("[training_problem] name=%s step=%d %s; %s", name, state.global_step, action, detail)
        if self.stop_on_problem:
            control.should_training_stop = True


class TrackingCallback(TrainerCallback):
    """Sends every training and validation log to the step's MLflow run as curves.

    Keys as Trainer logs them (loss, learning_rate, grad_norm, eval_loss, eval_accuracy, ...),
    x-axis the global step; ``epoch`` is logged beside them. Only the first process logs.
    """

    def __init__(self, run) -> None:
        self.run = run  # ml_code.tracking.StepRun

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            self.run.log_metrics(logs, step=state.global_step)
