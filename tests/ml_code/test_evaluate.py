"""evaluate.py on a real model.tar.gz: evaluation.json in the registry's form, plot, report; the metric maths."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn import metrics as sk

from ml_code.common.facets import MAX_ACCURACY_GAP_JSON_PATH
from ml_code.common.labels import ID2LABEL
from ml_code.evaluate import parse_args
from ml_code.training.metrics import ACCURACY_JSON_PATH, confusion_matrix, registry_metrics, scalar_metrics
from tests.conftest import ROOT
from tests.ml_code.training_fixtures import TORCH_THREADS, sample_splits, trained_run

NAMES = list(ID2LABEL.values())
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, tiny_roberta):
    """evaluate.py run as the processing container runs it, on the folder holding model.tar.gz."""
    trained = trained_run(tmp_path_factory, tiny_roberta)
    splits = sample_splits(tmp_path_factory, tiny_roberta)
    model_input = tmp_path_factory.mktemp("processing-model")
    (model_input / "model.tar.gz").symlink_to(trained / "model.tar.gz")
    output = tmp_path_factory.mktemp("evaluation")
    command = [sys.executable, "ml_code/evaluate.py", "--model-dir", str(model_input)]
    command += ["--test-dir", str(splits / "test"), "--output-dir", str(output)]
    env = {**os.environ, "OMP_NUM_THREADS": str(TORCH_THREADS)}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    test_rows = sum(pq.read_metadata(p).num_rows for p in (splits / "test").glob("part-*.parquet"))
    return output, result.stdout, test_rows, model_input


def _at(document: dict, dotted: str):
    for key in dotted.split("."):
        document = document[key]
    return document


def test_accuracy_sits_where_the_pipelines_json_get_reads_it(evaluated):
    output, _, _, _ = evaluated
    evaluation = json.loads((output / "evaluation.json").read_text())
    assert ACCURACY_JSON_PATH == "multiclass_classification_metrics.accuracy.value"
    assert 0.0 <= _at(evaluation, ACCURACY_JSON_PATH) <= 1.0


def test_evaluation_json_has_the_registry_multiclass_schema(evaluated):
    output, _, test_rows, _ = evaluated
    metrics = json.loads((output / "evaluation.json").read_text())["multiclass_classification_metrics"]
    expected = {"accuracy", "weighted_precision", "weighted_recall", "weighted_f0_5", "weighted_f1", "weighted_f2"}
    expected |= {"macro_f1", "accuracy_best_constant_classifier", "weighted_f1_best_constant_classifier"}
    expected |= {f"{kind}_{name}" for kind in ("precision", "recall") for name in NAMES}
    assert set(metrics) == expected | {"confusion_matrix"}
    for key in expected:
        assert set(metrics[key]) == {"value", "standard_deviation"}, key
        assert 0.0 <= metrics[key]["value"] <= 1.0 and metrics[key]["standard_deviation"] >= 0.0, key
    matrix = metrics["confusion_matrix"]
    assert list(matrix) == NAMES and all(list(row) == NAMES for row in matrix.values())
    assert sum(sum(row.values()) for row in matrix.values()) == test_rows
    diagonal = sum(matrix[name][name] for name in NAMES)
    assert metrics["accuracy"]["value"] == pytest.approx(diagonal / test_rows)


def test_bias_figures_per_facet_and_the_gap_the_gate_reads(evaluated):
    output, log, test_rows, _ = evaluated
    evaluation = json.loads((output / "evaluation.json").read_text())
    # The sample splits put every review in one category: one group, so no gap, but the key is there.
    assert _at(evaluation, MAX_ACCURACY_GAP_JSON_PATH) == 0.0
    assert evaluation["bias"]["max_accuracy_gap"] == {"value": 0.0, "facet": None, "groups": [], "min_group_size": 30}
    (group,) = evaluation["bias"]["facets"]["product_category"].values()
    assert group["count"] == test_rows
    assert group["accuracy"] == pytest.approx(_at(evaluation, ACCURACY_JSON_PATH), abs=1e-6)
    assert "## Accuracy by facet" in (output / "evaluation_report.md").read_text()
    assert "max_facet_accuracy_gap=0.0000" in log


def test_confusion_matrix_png_and_markdown_report_are_written(evaluated):
    output, log, test_rows, _ = evaluated
    assert (output / "confusion_matrix.png").read_bytes().startswith(PNG_MAGIC)
    report = (output / "evaluation_report.md").read_text()
    accuracy = json.loads((output / "evaluation.json").read_text())["multiclass_classification_metrics"]["accuracy"]
    assert f"| accuracy | {accuracy['value']:.4f}" in report
    assert f"test examples: {test_rows}" in report and "| negative |" in report
    assert f"[evaluation] examples={test_rows} accuracy={accuracy['value']:.4f}" in log


def test_the_unpacked_model_is_cleaned_up(evaluated):
    _, _, _, model_input = evaluated
    assert [p.name for p in model_input.iterdir()] == ["model.tar.gz"]


def test_cli_defaults_are_the_processing_container_paths(tmp_path, capsys):
    args = parse_args(["--model-dir", str(tmp_path)])
    assert str(args.test_dir) == "/opt/ml/processing/test" and str(args.output_dir) == "/opt/ml/processing/evaluation"
    with pytest.raises(SystemExit):
        parse_args(["--model-dir", str(tmp_path / "absent")])
    assert "does not exist" in capsys.readouterr().err


def test_metrics_agree_with_scikit_learn():
    rng = np.random.default_rng(3)
    y_true = rng.choice(3, size=500, p=[0.1, 0.2, 0.7])
    y_pred = np.where(rng.random(500) < 0.6, y_true, rng.integers(0, 3, 500))
    values = scalar_metrics(confusion_matrix(y_true, y_pred, 3), NAMES)
    labels = [0, 1, 2]
    assert values["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert values["weighted_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, labels=labels, average="weighted"))
    assert values["weighted_f2"] == pytest.approx(
        sk.fbeta_score(y_true, y_pred, beta=2, labels=labels, average="weighted")
    )
    assert values["macro_f1"] == pytest.approx(sk.f1_score(y_true, y_pred, labels=labels, average="macro"))
    assert values["weighted_precision"] == pytest.approx(
        sk.precision_score(y_true, y_pred, labels=labels, average="weighted")
    )
    recall = sk.recall_score(y_true, y_pred, labels=labels, average=None)
    assert [values[f"recall_{n}"] for n in NAMES] == pytest.approx(recall)
    assert values["accuracy_best_constant_classifier"] == pytest.approx(np.mean(y_true == 2))


def test_a_class_never_predicted_scores_zero_instead_of_dividing_by_zero():
    values = scalar_metrics(confusion_matrix([0, 1, 2, 2], [2, 2, 2, 2], 3), NAMES)
    assert values["precision_negative"] == 0.0 and values["recall_positive"] == 1.0
    assert values["accuracy"] == values["accuracy_best_constant_classifier"] == 0.5


def test_standard_deviations_are_reproducible_and_shrink_with_more_data():
    rng = np.random.default_rng(0)
    small_true, small_pred = rng.integers(0, 3, 100), rng.integers(0, 3, 100)
    big_true, big_pred = np.tile(small_true, 20), np.tile(small_pred, 20)
    small = registry_metrics(small_true, small_pred, ID2LABEL)["multiclass_classification_metrics"]
    again = registry_metrics(small_true, small_pred, ID2LABEL)["multiclass_classification_metrics"]
    big = registry_metrics(big_true, big_pred, ID2LABEL)["multiclass_classification_metrics"]
    assert small == again
    assert big["accuracy"]["value"] == pytest.approx(small["accuracy"]["value"])
    assert 0 < big["accuracy"]["standard_deviation"] < small["accuracy"]["standard_deviation"] / 3


def test_mismatched_predictions_are_rejected():
    with pytest.raises(ValueError, match="as many predictions as labels"):
        registry_metrics([0, 1], [0], ID2LABEL)
    with pytest.raises(ValueError, match="at least one"):
        registry_metrics([], [], ID2LABEL)
