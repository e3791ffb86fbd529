"""The app's pipeline definition run end to end by the local runner, on a small slice of the
sample data with the tiny RoBERTa: once through the gate to the registry, once into the Fail step."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from local_runner.cli import main
from local_runner.local_s3 import LocalS3
from local_runner.registry import LocalRegistry
from tests.e2e.local_runs import run_locally, write_small_csv


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    return write_small_csv(tmp_path_factory.mktemp("data") / "reviews.csv")


def _accuracy(run_dir: Path, summary: dict) -> float:
    evaluate = next(s for s in summary["steps"] if s["name"] == "Evaluate")
    uri = evaluate["properties"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] + "/evaluation.json"
    document = json.loads(LocalS3(run_dir / "s3").path(uri).read_text())
    return document["multiclass_classification_metrics"]["accuracy"]["value"]


def test_gate_passes_registers_a_version_with_metrics_and_approve_approves_it(
    tmp_path, tiny_roberta, small_csv, capsys
):
    code, summary, run_dir = run_locally(tmp_path, tiny_roberta, small_csv, "--param", "MinAccuracy=0.0")
    out = capsys.readouterr().out
    assert code == 0, out
    statuses = {s["name"]: s["status"] for s in summary["steps"]}
    assert statuses == {
        "Preprocess": "Succeeded",
        "Train": "Succeeded",
        "Evaluate": "Succeeded",
        "AccuracyGate": "Succeeded",
        "BaselineFeatures": "Succeeded",
        "Register-RegisterModel": "Succeeded",
        "LinkRun": "Succeeded",
        "AccuracyBelowThreshold": "NotExecuted",
    }
    steps = {s["name"]: s["properties"] for s in summary["steps"]}
    # Outputs flowed by their property references.
    preprocess_outputs = {
        o["OutputName"]: o["S3Output"]["S3Uri"] for o in steps["Preprocess"]["ProcessingOutputConfig"]["Outputs"]
    }
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in steps["Train"]["InputDataConfig"]}
    assert channels == {"train": preprocess_outputs["train"], "validation": preprocess_outputs["validation"]}
    model_uri = steps["Train"]["ModelArtifacts"]["S3ModelArtifacts"]
    evaluate_inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in steps["Evaluate"]["ProcessingInputs"]}
    assert evaluate_inputs["model"] == model_uri and evaluate_inputs["test"] == preprocess_outputs["test"]
    package = steps["Register-RegisterModel"]
    assert package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == model_uri
    s3 = LocalS3(run_dir / "s3")
    assert s3.path(model_uri).is_file() and s3.objects(preprocess_outputs["train"])
    # The training contract: hyperparameters as SageMaker writes them, the local model in place of roberta-base.
    hyperparameters = json.loads((run_dir / "steps/Train/algo-1/opt/ml/input/config/hyperparameters.json").read_text())
    assert hyperparameters["model_name_or_path"] == json.dumps(str(Path(tiny_roberta).resolve()))
    assert hyperparameters["sagemaker_program"] == '"ml_code/train.py"'
    preprocess_log = (run_dir / "steps/Preprocess/logs/algo-1.log").read_text()
    assert (
        "default of --output-dir: /opt/ml/processing/output"
        f" -> {run_dir}/steps/Preprocess/algo-1/opt/ml/processing/output" in preprocess_log
    )
    assert any(m["MetricName"] == "validation:accuracy" for m in steps["Train"]["FinalMetricDataList"])

    registry = LocalRegistry(tmp_path / "registry")
    (version,) = registry.versions("roberta-sentiment-dev-sentiment")
    assert version["ModelPackageVersion"] == 1 and version["ModelApprovalStatus"] == "PendingManualApproval"
    assert version["Metrics"]["accuracy"] == pytest.approx(_accuracy(run_dir, summary))
    assert version["Local"]["PipelineExecutionId"] == summary["execution_id"]
    report = (run_dir / "report.md").read_text()
    assert "## Registered model" in report and "Confusion matrix" in report and "validation:accuracy" in report
    _check_baseline_and_the_monitoring_reference(summary, run_dir, version, report)

    assert main(["approve", "--root", str(tmp_path), "--latest"]) == 0
    assert registry.get("roberta-sentiment-dev-sentiment", 1)["ModelApprovalStatus"] == "Approved"
    assert main(["list", "--root", str(tmp_path)]) == 0
    assert "v1   Approved" in capsys.readouterr().out


def test_gate_fails_with_the_fail_steps_message_and_registers_nothing(tmp_path, tiny_roberta, small_csv, capsys):
    code, summary, run_dir = run_locally(tmp_path, tiny_roberta, small_csv, "--param", "MinAccuracy=1.0")
    captured = capsys.readouterr()
    assert code == 1, captured.out
    accuracy = _accuracy(run_dir, summary)
    assert accuracy < 1.0
    message = summary["failure_reason"]  # the Fail step's evaluated ErrorMessage (infra words it)
    assert f"accuracy {accuracy} " in message and "MinAccuracy 1.0" in message
    assert captured.err.strip().splitlines()[-1] == f"pipeline execution failed: {message}"
    assert summary["status"] == "Failed"
    statuses = {s["name"]: s["status"] for s in summary["steps"]}
    assert statuses["Register-RegisterModel"] == "NotExecuted" and statuses["AccuracyBelowThreshold"] == "Failed"
    assert statuses["BaselineFeatures"] == "NotExecuted"
    assert summary["parameters"]["MinAccuracy"] == 1.0 and "MinAccuracy" in summary["overridden_parameters"]
    assert LocalRegistry(tmp_path / "registry").groups() == []
    assert message in (run_dir / "report.md").read_text()


def _check_baseline_and_the_monitoring_reference(summary: dict, run_dir: Path, version: dict, report: str):
    """BaselineFeatures ran for real; Register recorded its reference for the monitoring job; with the
    shipped evidently engine there is no QualityCheck step, so nothing is skipped or left out."""
    from ml_code.monitoring.record_preprocessor import FEATURES

    steps = {s["name"]: s for s in summary["steps"]}
    features = steps["BaselineFeatures"]["properties"]
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in features["ProcessingInputs"]}
    assert inputs["model"] == steps["Train"]["properties"]["ModelArtifacts"]["S3ModelArtifacts"]
    outputs = {o["OutputName"]: o["S3Output"]["S3Uri"] for o in features["ProcessingOutputConfig"]["Outputs"]}
    s3 = LocalS3(run_dir / "s3")
    ((key, csv_path),) = s3.objects(outputs["dataset"])
    rows = list(csv.reader(csv_path.read_text().splitlines()))
    assert key == "baseline.csv" and rows[0] == list(FEATURES) and len(rows) > 1
    baseline_summary = json.loads(s3.path(outputs["summary"] + "/baseline_summary.json").read_text())
    assert baseline_summary["records"] == len(rows) - 1

    # What `local_runner monitor` takes by default: the reference URI the version records, in this run's S3.
    reference_uri = version["CustomerMetadataProperties"]["MonitoringReferenceUri"]
    assert reference_uri == outputs["reference"]
    with open(s3.path(reference_uri) / "reference.csv", newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["review_text", *FEATURES, "label"]
    assert all(s["status"] != "Skipped" for s in summary["steps"]) and "did not run" not in report
    assert not version["Local"].get("NotRegisteredLocally")
