"""Checks for the training problems the course has SageMaker Debugger watch for.

Debugger's tensor rules (LossNotDecreasing, Overfit, VanishingGradient, ExplodingTensor)
need its smdebug hook, which the current Hugging Face/PyTorch 2.x training containers do
not ship; these checks run on the values Trainer logs anyway (loss, grad_norm, eval_loss),
so they cost nothing per step. Each is a pure function of the history so far.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

# Trainer logs the training loss averaged over logging_steps; compare the mean of the last
# LOSS_WINDOW logs with the mean of the LOSS_WINDOW before (Debugger compares windows too).
LOSS_WINDOW = 5
# Consecutive evaluations with a rising validation loss (while training loss falls).
OVERFIT_PATIENCE = 2
# grad_norm is the global L2 norm before clipping. Fine-tuning norms are O(0.1-10); a 1e3
# spike means an update that clipping (max_grad_norm=1) hides from the weights but not the log.
EXPLODING_GRAD_NORM = 1e3
# Below this for every parameter at once, updates no longer move the weights in float32.
VANISHING_GRAD_NORM = 1e-7
VANISHING_PATIENCE = 3

LOSS_NOT_DECREASING = "loss_not_decreasing"
OVERFITTING = "overfitting"
VANISHING_GRADIENTS = "vanishing_gradients"
EXPLODING_GRADIENTS = "exploding_gradients"


@dataclass(frozen=True)
class TrainingProblem:
    name: str
    step: int
    detail: str


def loss_not_decreasing(losses: Sequence[float], window: int = LOSS_WINDOW) -> bool:
    """The latest window of logged training losses is on average no lower than the window before."""
    if len(losses) < 2 * window:
        return False
    return fmean(losses[-window:]) >= fmean(losses[-2 * window : -window])


def overfitting(train_losses: Sequence[float], eval_losses: Sequence[float], patience: int = OVERFIT_PATIENCE) -> bool:
    """Validation loss rose at each of the last ``patience`` evaluations while training loss fell.

    ``train_losses[i]`` is the latest training loss logged before evaluation ``i``.
    """
    if len(eval_losses) < patience + 1 or len(train_losses) != len(eval_losses):
        return False
    recent = eval_losses[-(patience + 1) :]
    rising = all(later > earlier for earlier, later in zip(recent, recent[1:], strict=False))
    return rising and train_losses[-1] < train_losses[-(patience + 1)]


def exploding_gradients(
    grad_norms: Sequence[float], losses: Sequence[float] = (), limit: float = EXPLODING_GRAD_NORM
) -> bool:
    """The latest gradient norm is huge or not finite, or the loss itself is NaN/inf."""
    latest_norm = grad_norms[-1] if grad_norms else 0.0
    latest_loss = losses[-1] if losses else 0.0
    return not math.isfinite(latest_norm) or latest_norm > limit or not math.isfinite(latest_loss)


def vanishing_gradients(
    grad_norms: Sequence[float], limit: float = VANISHING_GRAD_NORM, patience: int = VANISHING_PATIENCE
) -> bool:
    """The last ``patience`` gradient norms are all (practically) zero."""
    return len(grad_norms) >= patience and all(norm < limit for norm in grad_norms[-patience:])
