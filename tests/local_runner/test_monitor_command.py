"""`local_runner monitor` without running the job: the definition, parameters, reference lookup,
argument errors (exit 2), the printed summary; and the demo traffic driver's pure parts."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import pytest

from local_runner.cli import main
from local_runner.demo_traffic import pick, read_reviews, window_arguments
from local_runner.errors import LocalRunnerError, RegistryError
from local_runner.local_s3 import LocalS3
from local_runner.monitoring import (
    approved_reference,
    build_local_monitor_definition,
    capture_folder,
    summary_lines,
)
from local_runner.registry import LocalRegistry
from tests.conftest import SAMPLE_DATA

ENDPOINT = "roberta-sentiment-dev-sentiment"
REFERENCE_URI = "s3://local-models/baselines/exec-1/reference"


@pytest.fixture(scope="module")
def built():
    return build_local_monitor_definition("dev")


def test_the_definition_is_infras_monitor_pipeline_with_local_stand_ins(built):
    (step,) = built.definition["Steps"]
    assert (step["Name"], step["Type"]) == ("DriftMonitor", "Processing")
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--window-end") + 1] == {"Get": "Execution.StartDateTime"}
    assert "ml_code/monitor.py" in step["Arguments"]["AppSpecification"]["ContainerEntrypoint"][2]
    assert step["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://local-assets/ml_code.tar.gz"
    assert built.pipeline_name == "roberta-sentiment-dev-monitor" and built.endpoint_name == ENDPOINT
    assert built.reports_uri == f"s3://local-monitoring/reports/{ENDPOINT}"
    names = {p["Name"] for p in built.definition["Parameters"]}
    assert {"CaptureUri", "ReferenceUri", "GroundTruthUri", "WindowHours", "PublishMetrics"} <= names


def test_the_capture_folder_is_the_endpoints_folder_of_the_capture_dir(tmp_path):
    (tmp_path / ENDPOINT / "AllTraffic").mkdir(parents=True)
    assert capture_folder(tmp_path, ENDPOINT) == (tmp_path / ENDPOINT).resolve()
    assert capture_folder(tmp_path / ENDPOINT, ENDPOINT) == (tmp_path / ENDPOINT).resolve()  # given directly
    with pytest.raises(LocalRunnerError, match=f"no folder {ENDPOINT}/ in it"):
        capture_folder(tmp_path / ENDPOINT / "AllTraffic", ENDPOINT)


def _register(registry: LocalRegistry, run_folder, metadata: dict | None) -> int:
    package = {
        "ModelPackageGroupName": "g",
        "ModelApprovalStatus": "PendingManualApproval",
        "Local": {"RunFolder": str(run_folder)},
    }
    if metadata is not None:
        package["CustomerMetadataProperties"] = metadata
    return registry.register(package, {}, "us-east-1", "000000000000")["ModelPackageVersion"]


def test_the_default_reference_is_the_newest_approved_versions_in_its_run_folder(tmp_path):
    registry = LocalRegistry(tmp_path / "registry")
    run_folder = tmp_path / "runs" / "exec-1"
    reference = LocalS3(run_folder / "s3").path(REFERENCE_URI) / "reference.csv"
    reference.parent.mkdir(parents=True)
    reference.write_text("review_text\n")
    first = _register(registry, run_folder, {"MonitoringReferenceUri": REFERENCE_URI})
    with pytest.raises(RegistryError, match="no Approved version to take the reference from"):
        approved_reference(registry, None)
    registry.set_status("g", first, "Approved")
    _register(registry, run_folder, {"MonitoringReferenceUri": REFERENCE_URI})  # newer, not approved
    path, source = approved_reference(registry, None)
    assert path == reference.parent and source.startswith("g version 1 (Approved): s3://local-models/")
    registry.set_status("g", _register(registry, run_folder, None), "Approved")
    with pytest.raises(RegistryError, match="records no CustomerMetadataProperties"):
        approved_reference(registry, None)
    registry.set_status(
        "g", _register(registry, tmp_path / "gone", {"MonitoringReferenceUri": REFERENCE_URI}), "Approved"
    )
    with pytest.raises(RegistryError, match="is not in its run folder"):
        approved_reference(registry, None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--window-end", "soon"], "--window-end: 'soon' is not an ISO 8601 date-time"),
        (["--window-hours", "0"], "--window-hours must be at least 1"),
        (["--reference", "/no/such/reference.csv"], "--reference /no/such/reference.csv: no such file"),
        ([], "the registry"),  # no --reference and an empty registry
    ],
)
def test_monitor_cannot_start_without_its_inputs_exit_2(tmp_path, capsys, extra, message):
    (tmp_path / "capture" / ENDPOINT).mkdir(parents=True)
    code = main(["monitor", "--root", str(tmp_path), "--capture-dir", str(tmp_path / "capture"), *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_monitor_needs_the_endpoints_capture_folder(tmp_path, capsys):
    assert main(["monitor", "--root", str(tmp_path), "--capture-dir", str(tmp_path)]) == 2
    assert f"no folder {ENDPOINT}/" in capsys.readouterr().err


def test_the_summary_names_the_report_and_the_drifted_features(tmp_path):
    report = {
        "records_analysed": 40,
        "drift": {
            "drifted_share": 0.5,
            "features": {
                "review_length": {"score": 1.7, "threshold": 0.1, "method": "wasserstein", "drifted": True},
                "confidence": {"score": 0.02, "threshold": 0.1, "method": "wasserstein", "drifted": False},
            },
        },
        "model_quality": {"labelled_records": 40, "accuracy": 0.5, "macro_f1": 0.4, "recall": {}, "accuracy_drop": 0.1},
    }
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "metrics.json").write_text("{}")
    text = "\n".join(summary_lines(tmp_path))
    assert f"report:   {tmp_path / 'report.html'}" in text
    assert "drifted features: 1 of 2\n    review_length    score 1.700 (threshold 0.1, wasserstein)" in text
    assert "not published" in text and "accuracy 0.500, macro F1 0.400 on 40 labelled records" in text
    report["drift"]["features"]["review_length"]["drifted"] = False
    (tmp_path / "report.json").write_text(json.dumps(report))
    assert "drifted features: 0 of 2 (none)" in "\n".join(summary_lines(tmp_path))


def test_the_demo_window_covers_exactly_the_hours_the_traffic_landed_in():
    at = datetime(2026, 12, 2, 10, 59, 50, tzinfo=UTC)
    one_hour = "--window-end 2026-12-02T11:00:00Z --window-hours 1"
    assert window_arguments(at, at.replace(minute=59, second=59)) == one_hour
    assert window_arguments(at, at.replace(hour=11, minute=0, second=20)) == (
        "--window-end 2026-12-02T12:00:00Z --window-hours 2"
    )


def test_demo_reviews_carry_row_ids_and_ratings_and_the_batches_do_not_overlap(tmp_path):
    reviews = read_reviews(SAMPLE_DATA)
    assert len(reviews) > 2000 and all(1 <= r["stars"] <= 5 and r["text"] for r in reviews)
    assert reviews[0] == {"id": "0", "text": "Absolutely wonderful - silky and sexy and comfortable", "stars": 4}
    real, shifted = pick(reviews, 300)
    assert len(real) == len(shifted) == 300 and not {r["id"] for r in real} & {r["id"] for r in shifted}
    assert pick(reviews, 300) == (real, shifted)  # seeded
    plain = tmp_path / "plain.csv"
    plain.write_text(gzip.decompress(SAMPLE_DATA.read_bytes()).decode())
    assert read_reviews(plain) == reviews
