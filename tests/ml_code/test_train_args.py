"""train.py's contract with SageMaker: hyperparameters as strings, channels, staged model, checkpoints."""

from __future__ import annotations

import pytest

from ml_code import train
from ml_code.training.hyperparameters import DEFAULTS, HYPERPARAMETERS, str_to_bool

# Exactly how SageMaker passes hyperparameters: every value a string, underscore names.
SAGEMAKER_ARGV = [
    "--epochs",
    "2",
    "--learning_rate",
    "3e-05",
    "--per_device_train_batch_size",
    "16",
    "--per_device_eval_batch_size",
    "32",
    "--warmup_ratio",
    "0.06",
    "--weight_decay",
    "0.0",
    "--gradient_accumulation_steps",
    "2",
    "--max_seq_length",
    "64",
    "--seed",
    "7",
    "--early_stopping_patience",
    "3",
    "--stop_on_training_problem",
    "True",
    "--model_name_or_path",
    "roberta-base",
]


def test_sagemaker_style_hyperparameters_parse_to_typed_values(monkeypatch):
    monkeypatch.delenv("SM_CHANNEL_TRAIN", raising=False)
    args = train.parse_args(SAGEMAKER_ARGV)
    assert (args.epochs, args.learning_rate, args.gradient_accumulation_steps) == (2.0, 3e-5, 2)
    assert (args.max_seq_length, args.seed, args.stop_on_training_problem) == (64, 7, True)
    assert str(args.train_dir) == "/opt/ml/input/data/train"
    assert str(args.checkpoint_dir) == "/opt/ml/checkpoints"


def test_defaults_come_from_the_one_hyperparameter_module():
    args = train.parse_args([])
    assert {name: getattr(args, name) for name in DEFAULTS} == DEFAULTS
    assert [h.name for h in HYPERPARAMETERS] == list(DEFAULTS)


def test_channels_and_output_dirs_come_from_the_sagemaker_environment(monkeypatch, tmp_path):
    for name, folder in [
        ("SM_CHANNEL_TRAIN", "t"),
        ("SM_CHANNEL_VALIDATION", "v"),
        ("SM_MODEL_DIR", "m"),
        ("SM_OUTPUT_DATA_DIR", "o"),
    ]:
        monkeypatch.setenv(name, str(tmp_path / folder))
    args = train.parse_args([])
    assert [args.train_dir.name, args.validation_dir.name, args.model_dir.name, args.output_data_dir.name] == list(
        "tvmo"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], "--epochs or --max_steps must be positive"),
        (["--max_seq_length", "600"], "--max_seq_length must be between 3 and 512"),
        (["--warmup_ratio", "1.0"], "--warmup_ratio must be in [0, 1)"),
        (["--per_device_train_batch_size", "0"], "--per_device_train_batch_size must be at least 1"),
        (["--gradient_accumulation_steps", "0"], "--gradient_accumulation_steps must be at least 1"),
        (["--learning_rate", "-1"], "--learning_rate must not be negative"),
        (["--logging_steps", "0"], "--logging_steps must be at least 1"),
    ],
)
def test_bad_values_fail_before_any_model_loads(argv, message, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(argv)
    assert message in capsys.readouterr().err


def test_epochs_zero_is_fine_when_max_steps_is_set():
    assert train.parse_args(["--epochs", "0", "--max_steps", "5"]).max_steps == 5


@pytest.mark.parametrize(("text", "value"), [("True", True), ("false", False), ("1", True), ("no", False)])
def test_booleans_parse_as_sagemaker_writes_them(text, value):
    assert str_to_bool(text) is value


def test_a_boolean_typo_is_an_error(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--stop_on_training_problem", "maybe"])
    assert "--stop_on_training_problem" in capsys.readouterr().err


def test_staged_model_channel_takes_precedence_over_the_hyperparameter(tmp_path):
    assert train.model_source("roberta-base", {"SM_CHANNEL_MODEL": str(tmp_path)}) == str(tmp_path)
    assert train.model_source("roberta-base", {}) == "roberta-base"
    assert train.model_source("roberta-base", {"SM_CHANNEL_MODEL": str(tmp_path / "absent")}) == "roberta-base"


def test_latest_checkpoint_is_the_highest_complete_step(tmp_path):
    assert train.latest_checkpoint(tmp_path / "absent") is None
    assert train.latest_checkpoint(tmp_path) is None
    for step, complete in [(10, True), (100, True), (20, True), (200, False)]:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-x").mkdir()
    # checkpoint-200 was cut off mid-save (a Spot interruption): resume from 100, numerically not by name.
    assert train.latest_checkpoint(tmp_path) == str(tmp_path / "checkpoint-100")


@pytest.mark.parametrize(
    ("cuda", "bf16", "expected"),
    [(False, False, {}), (True, True, {"bf16": True}), (True, False, {"fp16": True})],
)
def test_mixed_precision_only_on_gpu_bf16_where_supported(cuda, bf16, expected):
    assert train.mixed_precision(cuda, bf16) == expected


def test_training_arguments_group_by_length_and_pair_evaluation_with_checkpoints(tmp_path):
    args = train.parse_args(["--eval_steps", "25", "--checkpoint_dir", str(tmp_path)])
    training_args = train.training_arguments(args, cuda=False, bf16_supported=False)
    assert training_args.group_by_length
    assert (training_args.eval_strategy, training_args.save_strategy) == ("steps", "steps")
    assert training_args.eval_steps == training_args.save_steps == 25
    assert training_args.load_best_model_at_end and training_args.metric_for_best_model == "accuracy"
    assert not (training_args.fp16 or training_args.bf16)
    per_epoch = train.training_arguments(train.parse_args(["--checkpoint_dir", str(tmp_path)]), False, False)
    assert (per_epoch.eval_strategy, per_epoch.save_strategy) == ("epoch", "epoch")
