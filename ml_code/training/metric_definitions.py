"""The stable metric log lines of train.py and the regexes SageMaker scrapes them with.

The format and the regexes live together so they cannot drift apart. The pipeline passes
``METRIC_DEFINITIONS`` to the training step; SageMaker then graphs these metrics in
CloudWatch and the console. Standard library only, so infra can import it.

    [metrics] step=40 epoch=1.25 train_loss=0.8123 train_accuracy=0.6406 learning_rate=1.6e-05 grad_norm=2.371
    [metrics] step=40 epoch=1.25 validation_loss=0.7911 validation_accuracy=0.6719
"""

from __future__ import annotations

PREFIX = "[metrics]"
# Python's float formatting: digits, sign, point and exponent (nan/inf are left unmatched on purpose).
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

# SageMaker metric name -> the key it is logged under.
_LOGGED_AS: dict[str, str] = {
    "train:loss": "train_loss",
    "train:accuracy": "train_accuracy",
    "train:learning_rate": "learning_rate",
    "train:grad_norm": "grad_norm",
    "validation:loss": "validation_loss",
    "validation:accuracy": "validation_accuracy",
}

# The space before each key keeps e.g. "train_loss=" from matching inside another key.
METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": name, "Regex": rf"\[metrics\].* {key}={_NUMBER}"} for name, key in _LOGGED_AS.items()
]


def format_metric_line(step: int, epoch: float | None, values: dict[str, float | None]) -> str:
    """One log line for the keys of ``values`` that are set, in the form the regexes expect."""
    parts = [PREFIX, f"step={step}"]
    if epoch is not None:
        parts.append(f"epoch={epoch:.4g}")
    parts += [f"{key}={value:.6g}" for key, value in values.items() if value is not None]
    return " ".join(parts)
