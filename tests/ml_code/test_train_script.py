"""A real short run of ml_code/train.py as the container runs it: outputs, logs, metric regexes."""

from __future__ import annotations

import json
import re

import pytest

from ml_code.common.labels import ID2LABEL
from ml_code.training.metric_definitions import METRIC_DEFINITIONS
from tests.ml_code.training_fixtures import TRAINED_STEPS, trained_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_roberta):
    return trained_run(tmp_path_factory, tiny_roberta)


@pytest.fixture(scope="module")
def history(trained):
    return json.loads((trained / "output" / "training_history.json").read_text())


@pytest.fixture(scope="module")
def log(trained):
    return (trained / "train.log").read_text()


def test_model_dir_holds_model_tokenizer_and_the_inference_code_layout(trained):
    model = trained / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (model / name).is_file(), name
    for name in (
        "code/inference.py",
        "code/requirements.txt",
        "code/ml_code/__init__.py",
        "code/ml_code/common/labels.py",
    ):
        assert (model / name).is_file(), name
    config = json.loads((model / "config.json").read_text())
    assert config["architectures"] == ["RobertaForSequenceClassification"]
    assert {int(k): v for k, v in config["id2label"].items()} == ID2LABEL
    # Inference truncates where training did (default --max_seq_length).
    assert json.loads((model / "tokenizer_config.json").read_text())["model_max_length"] == 128


def test_history_and_curve_go_to_the_output_data_dir(trained, history):
    assert history["global_step"] == TRAINED_STEPS
    assert history["resumed_from"] is None
    assert history["effective_configuration"]["max_steps"] == TRAINED_STEPS
    assert 0 <= history["best_validation_accuracy"] <= 1
    assert {"loss", "grad_norm", "train_accuracy"} <= {k for entry in history["log_history"] for k in entry}
    assert (trained / "output" / "training_curve.png").read_bytes().startswith(PNG_MAGIC)


def test_effective_configuration_is_logged_before_training(log, trained):
    line = next(line for line in log.splitlines() if "effective configuration: " in line)
    config = json.loads(line.split("effective configuration: ", 1)[1])
    assert config["model_source"] == str(trained / "tiny-roberta")
    assert config["world_size"] == 1 and config["precision"] == "fp32" and config["device"] == "cpu"
    assert config["effective_batch_size"] == 16 and config["max_seq_length"] == 128
    assert log.index("effective configuration: ") < log.index("[metrics]")


def test_checkpoints_are_complete_and_rotated(trained):
    checkpoints = sorted((trained / "checkpoints").glob("checkpoint-*"))
    assert 1 <= len(checkpoints) <= 2  # latest to resume from, best to load at the end
    assert f"checkpoint-{TRAINED_STEPS}" in {c.name for c in checkpoints}
    for checkpoint in checkpoints:
        for name in ("trainer_state.json", "optimizer.pt", "scheduler.pt", "rng_state.pth", "model.safetensors"):
            assert (checkpoint / name).is_file(), f"{checkpoint.name}/{name}"


def _logged(history: dict, key: str) -> list[float]:
    return [entry[key] for entry in history["log_history"] if key in entry]


@pytest.mark.parametrize(
    ("metric", "history_key"),
    [
        ("train:loss", "loss"),
        ("train:accuracy", "train_accuracy"),
        ("train:learning_rate", "learning_rate"),
        ("train:grad_norm", "grad_norm"),
        ("validation:loss", "eval_loss"),
        ("validation:accuracy", "eval_accuracy"),
    ],
)
def test_metric_definition_regexes_read_every_logged_value_from_the_real_log(log, history, metric, history_key):
    regex = next(d["Regex"] for d in METRIC_DEFINITIONS if d["Name"] == metric)
    # SageMaker applies each regex line by line and takes the first group.
    scraped = [float(m.group(1)) for line in log.splitlines() if (m := re.search(regex, line))]
    expected = _logged(history, history_key)
    assert len(expected) >= 3
    assert scraped == pytest.approx(expected, rel=1e-5)


def test_every_metric_definition_is_tested_and_names_are_unique():
    names = [d["Name"] for d in METRIC_DEFINITIONS]
    assert len(names) == len(set(names)) == 6
    assert all(re.compile(d["Regex"]).groups == 1 for d in METRIC_DEFINITIONS)


def test_no_gradient_problem_in_a_healthy_run(history):
    names = {p["name"] for p in history["training_problems"]}
    assert not names & {"exploding_gradients", "vanishing_gradients"}
