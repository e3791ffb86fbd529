"""Experiment tracking in a whole local pipeline run: each step logs its MLflow run to the root's
SQLite store (the local stand-in for the environment's MLflow App), the registered version and
the runs name each other, and an unreachable tracking service leaves the run green with one
warning per step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from local_runner.local_s3 import LocalS3
from local_runner.registry import LocalRegistry
from ml_code.tracking.names import CODE_VERSION_TAG, EXECUTION_ID_TAG, MODEL_PACKAGE_TAG, STEP_TAG
from tests.e2e.local_runs import run_locally, write_small_csv

EXPERIMENT = "roberta-sentiment-dev-training"  # the pipeline's name
GROUP = "roberta-sentiment-dev-sentiment"
# Batches of 4 over ~320 training reviews for two epochs: ~160 steps, so Trainer's log every
# 50 steps gives each training curve several points and validation one point per epoch.
CURVES = ["--param", "Epochs=2", "--param", "BatchSize=4", "--param", "MinAccuracy=0.0"]
TRACKED_STEPS = ("Preprocess", "Train", "Evaluate")
OFF_WARNING = "MLflow tracking is off for the rest of this job"


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    return write_small_csv(tmp_path_factory.mktemp("data") / "reviews.csv")


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, tiny_roberta, small_csv):
    root = tmp_path_factory.mktemp("tracked")
    code, summary, run_dir = run_locally(root, tiny_roberta, small_csv, *CURVES)
    assert code == 0, (run_dir / "report.md").read_text()
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment is not None, "no experiment named after the pipeline"
    runs = {r.data.tags[STEP_TAG]: r for r in client.search_runs([experiment.experiment_id])}
    (version,) = LocalRegistry(root / "registry").versions(GROUP)
    return client, runs, summary, run_dir, version


def test_each_step_logs_one_run_of_the_execution(tracked):
    _, runs, summary, _, _ = tracked
    assert set(TRACKED_STEPS) <= set(runs)
    versions = {runs[step].data.tags[CODE_VERSION_TAG] for step in TRACKED_STEPS}
    assert len(versions) == 1 and len(versions.pop()) == 64  # the code bundle's sha256
    for step in TRACKED_STEPS:
        assert runs[step].data.tags[EXECUTION_ID_TAG] == summary["execution_id"]
        assert runs[step].info.status == "FINISHED"


def test_training_logs_parameters_data_and_curves(tracked):
    client, runs, _, _, _ = tracked
    train = runs["Train"]
    params = train.data.params
    assert float(params["epochs"]) == 2 and int(params["per_device_train_batch_size"]) == 4
    assert params["data.train"].startswith("s3://") and params["data.validation"].startswith("s3://")
    for curve in ("loss", "learning_rate", "grad_norm"):
        history = client.get_metric_history(train.info.run_id, curve)
        assert len({m.step for m in history}) >= 2, f"{curve}: {[(m.step, m.value) for m in history]}"
    validation = client.get_metric_history(train.info.run_id, "eval_accuracy")
    assert len(validation) == 2  # one point per epoch
    assert train.data.tags["training.health"]
    assert "best_validation_accuracy" in train.data.metrics


def test_evaluation_logs_evaluation_json_and_its_files(tracked):
    client, runs, summary, run_dir, _ = tracked
    evaluate = next(s for s in summary["steps"] if s["name"] == "Evaluate")
    uri = evaluate["properties"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] + "/evaluation.json"
    document = json.loads(LocalS3(run_dir / "s3").path(uri).read_text())
    metrics = runs["Evaluate"].data.metrics
    accuracy = document["multiclass_classification_metrics"]["accuracy"]["value"]
    assert metrics["multiclass_classification_metrics.accuracy"] == pytest.approx(accuracy)
    assert any(key.startswith("bias.") for key in metrics)
    artifacts = {a.path for a in client.list_artifacts(runs["Evaluate"].info.run_id)}
    assert {"evaluation.json", "confusion_matrix.png", "evaluation_report.md"} <= artifacts
    assert document["tracking"] == {
        "training_run_id": runs["Train"].info.run_id,
        "evaluation_run_id": runs["Evaluate"].info.run_id,
    }


def test_preprocessing_logs_its_report(tracked):
    _, runs, _, _, _ = tracked
    metrics = runs["Preprocess"].data.metrics
    assert metrics["rows.read"] == 360
    assert metrics["rows.written"] > 0
    assert {"tokens.length_percentiles.p50", "tokens.truncated_share"} <= set(metrics)


def test_the_version_and_its_runs_name_each_other(tracked):
    client, runs, _, _, version = tracked
    metadata = version["CustomerMetadataProperties"]
    assert metadata["MlflowRunId"] == runs["Train"].info.run_id
    assert metadata["MlflowTrackingUri"].startswith("sqlite:///")
    for step in ("Train", "Evaluate"):
        tags = client.get_run(runs[step].info.run_id).data.tags
        assert tags[MODEL_PACKAGE_TAG] == version["ModelPackageArn"]


def test_an_unreachable_tracking_service_leaves_the_run_green_with_one_warning_per_step(
    tmp_path, tiny_roberta, small_csv
):
    code, summary, run_dir = run_locally(
        tmp_path, tiny_roberta, small_csv, "--param", "MinAccuracy=0.0", "--param", "TrackingUri=http://127.0.0.1:9"
    )
    assert code == 0, (run_dir / "report.md").read_text()
    assert {s["name"]: s["status"] for s in summary["steps"]}["LinkRun"] == "Succeeded"
    for step in TRACKED_STEPS:
        log = "\n".join(p.read_text() for p in sorted((run_dir / "steps" / step / "logs").glob("*.log")))
        assert log.count(OFF_WARNING) == 1, f"{step}: {log.count(OFF_WARNING)} warnings"
    (version,) = LocalRegistry(tmp_path / "registry").versions(GROUP)
    assert version["CustomerMetadataProperties"]["MlflowRunId"] == "none"
    assert not (tmp_path / "mlflow.db").exists()
