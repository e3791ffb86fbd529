"""Training hyperparameters: their names as SageMaker passes them, defaults, and why.

SageMaker hands each hyperparameter to the script as ``--name value`` (always a string),
so names use underscores and every value goes through a parser here. Standard library
only, so the pipeline definition can read the same defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def str_to_bool(value: str | bool) -> bool:
    """SageMaker serialises Python booleans as "True"/"False"; argparse's bool() would say True to both."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    # The course's model. Offline (tests, local runs) a local directory in Hugging Face format;
    # on SageMaker an S3-staged copy in the "model" channel takes precedence (see train.py).
    Hyperparameter("model_name_or_path", str, "roberta-base", "hub name or local model directory"),
    # Three passes over ~16k reviews is where roberta-base's validation loss flattens;
    # early stopping ends sooner when it turns up.
    Hyperparameter("epochs", float, 3.0, "training epochs"),
    # -1 runs the epochs above; a positive value caps optimizer steps (smoke tests, benchmarks).
    Hyperparameter("max_steps", int, -1, "stop after this many optimizer steps (-1: run all epochs)"),
    # The RoBERTa paper's fine-tuning range is 1e-5..3e-5; 2e-5 is stable with batch 32 and warmup.
    Hyperparameter("learning_rate", float, 2e-5, "peak AdamW learning rate"),
    # 32 x 128 tokens fits a 24 GB A10G (ml.g5) with bf16 and leaves room for longer batches.
    Hyperparameter("per_device_train_batch_size", int, 32, "training batch size per GPU/CPU process"),
    # Evaluation keeps no activations for backward, so twice the training batch fits.
    Hyperparameter("per_device_eval_batch_size", int, 64, "evaluation batch size per process"),
    # Warmup keeps the randomly initialised classification head from wrecking pretrained weights early.
    Hyperparameter("warmup_ratio", float, 0.1, "share of steps with linear learning-rate warmup"),
    # The usual AdamW decay for BERT-style fine-tuning (biases and LayerNorm excluded by Trainer).
    Hyperparameter("weight_decay", float, 0.01, "AdamW weight decay"),
    # Raise to keep the effective batch when a smaller GPU forces a smaller per-device batch.
    Hyperparameter("gradient_accumulation_steps", int, 1, "micro-batches per optimizer step"),
    # The course's 128: reviews are cut at ~500 characters, which is ~120 roberta-base tokens.
    Hyperparameter("max_seq_length", int, 128, "longest token sequence; longer inputs are truncated"),
    Hyperparameter("seed", int, 42, "seed for weights of the new head, shuffling and dropout"),
    # Evaluations without a better validation accuracy before stopping; 0 disables early stopping.
    Hyperparameter("early_stopping_patience", int, 2, "evaluations without improvement before stopping (0: off)"),
    # 0 evaluates and checkpoints once per epoch; a step count does both every that many steps
    # (shorter Spot rework after an interruption, at the cost of checkpoint uploads).
    Hyperparameter("eval_steps", int, 0, "evaluate and checkpoint every N steps (0: once per epoch)"),
    # Every 50 steps gives CloudWatch a curve without flooding the log on GPU.
    Hyperparameter("logging_steps", int, 50, "log training loss/accuracy every N steps"),
    # Training problems are always reported; stopping on them is opt-in because the checks
    # use heuristics that can fire on a legitimately noisy run.
    Hyperparameter("stop_on_training_problem", str_to_bool, False, "stop training when a training problem is detected"),
)

DEFAULTS: dict[str, Any] = {h.name: h.default for h in HYPERPARAMETERS}
