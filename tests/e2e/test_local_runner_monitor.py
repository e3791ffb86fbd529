"""`python -m local_runner monitor` end to end: traffic captured through the router in front of the
real serving stack, the monitoring pipeline's DriftMonitor step running ml_code/monitor.py
(Evidently) on it, against a reference scored by ml_code/baseline.py's own functions."""

from __future__ import annotations

import json
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local_runner.capture import INFERENCE_ID_HEADER, CaptureRouter, CaptureWriter
from local_runner.cli import main
from local_runner.demo_traffic import SHIFT_CHARS, read_reviews, send
from local_runner.local_s3 import LocalS3
from local_runner.registry import LocalRegistry
from tests.conftest import SAMPLE_DATA
from tests.ml_code.inference_cases import MAX_CHARS
from tests.ml_code.training_fixtures import trained_run

ENDPOINT = "roberta-sentiment-dev-sentiment"
MOMENT = datetime(2026, 12, 2, 10, 15, 30, tzinfo=UTC)  # the traffic's hour folder: 2026/12/02/10
WINDOW_END = "2026-12-02T11:00:05Z"  # a window of 1 hour ending then reads the 10 folder
REPORTS = f"s3/local-monitoring/reports/{ENDPOINT}/2026/12/02/11"
REFERENCE_URI = "s3://local-models/baselines/exec-1/reference"
REFERENCE_ROWS, BATCH = 150, 40


@pytest.fixture(scope="module")
def traffic(server, tmp_path_factory, tiny_roberta) -> Path:
    """<folder>/reference/reference.csv, capture-real/, capture-shifted/, ground-truth/labels.jsonl."""
    from ml_code.baseline import score, write_reference
    from ml_code.common.labels import sentiment_for_stars

    folder = tmp_path_factory.mktemp("monitoring")
    short = [r for r in read_reviews(SAMPLE_DATA) if len(r["text"]) <= MAX_CHARS]  # the test server's limit
    reviews = random.Random(3).sample(short, REFERENCE_ROWS + 2 * BATCH)
    reference, real, shifted = reviews[:REFERENCE_ROWS], reviews[REFERENCE_ROWS:-BATCH], reviews[-BATCH:]
    model = Path(shutil.copy(trained_run(tmp_path_factory, tiny_roberta) / "model.tar.gz", folder / "model.tar.gz"))
    rows, _ = score(model, [r["text"] for r in reference], 64)
    labelled = [{"text": r["text"], "label": sentiment_for_stars(r["stars"]).name} for r in reference]
    write_reference(rows, labelled, folder / "reference")
    batches = {
        "capture-real": [(f"review-{r['id']}", r["text"]) for r in real],
        "capture-shifted": [(f"shifted-{r['id']}", r["text"][:SHIFT_CHARS]) for r in shifted],
    }
    for name, batch in batches.items():
        with CaptureRouter(server.url, CaptureWriter(folder / name, ENDPOINT, clock=lambda: MOMENT)) as router:
            assert send(router.url, batch) == len(batch)
    (folder / "ground-truth").mkdir()
    (folder / "ground-truth" / "labels.jsonl").write_text(
        "".join(json.dumps({"inference_id": f"review-{r['id']}", "star_rating": r["stars"]}) + "\n" for r in real)
    )
    return folder


def _monitor(root: Path, capture: Path, *extra: str) -> tuple[int, dict, Path]:
    code = main(["monitor", "--root", str(root), "--capture-dir", str(capture), "--window-end", WINDOW_END, *extra])
    (run_dir,) = (root / "runs").iterdir()
    return code, json.loads((run_dir / "run.json").read_text()), run_dir


@pytest.fixture(scope="module")
def real_run(traffic, tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    code, summary, run_dir = _monitor(
        root,
        traffic / "capture-real",
        "--reference",
        str(traffic / "reference"),
        "--ground-truth",
        str(traffic / "ground-truth"),
    )
    return code, summary, run_dir


def test_the_job_runs_for_real_on_the_captured_window_with_ground_truth(real_run, capsys):
    code, summary, run_dir = real_run
    assert code == 0 and summary["status"] == "Succeeded"
    assert summary["start_datetime"] == "2026-12-02T11:00:05.000Z"  # --window-end is the StartDateTime
    arguments = json.loads((run_dir / "steps/DriftMonitor/arguments.json").read_text())
    container = arguments["AppSpecification"]["ContainerArguments"]
    assert container[container.index("--window-end") + 1] == "2026-12-02T11:00:05.000Z"
    assert container[container.index("--publish-metrics") + 1] == "false"
    assert container[container.index("--capture-uri") + 1].endswith(f"capture-real/{ENDPOINT}")
    reports = run_dir / REPORTS
    report = json.loads((reports / "report.json").read_text())
    assert report["records_analysed"] == BATCH and report["window"]["hours"] == ["2026/12/02/10"]
    assert report["model_quality"]["labelled_records"] == BATCH  # joined by the captured inference ids
    assert (reports / "report.html").stat().st_size > 10000 and (reports / "metrics.json").is_file()
    assert json.loads((reports / "metrics.json").read_text())["MetricData"]


@pytest.fixture(scope="module")
def shifted_run(traffic, tmp_path_factory):
    """Without --reference: the newest Approved version's MonitoringReferenceUri, in its run folder."""
    root = tmp_path_factory.mktemp("shifted")
    run_folder = root / "training-run"
    target = LocalS3(run_folder / "s3").path(REFERENCE_URI)
    shutil.copytree(traffic / "reference", target)
    registry = LocalRegistry(root / "registry")
    package = {
        "ModelPackageGroupName": "g",
        "ModelApprovalStatus": "Approved",
        "Local": {"RunFolder": str(run_folder)},
        "CustomerMetadataProperties": {"MonitoringReferenceUri": REFERENCE_URI},
    }
    registry.register(package, {}, "us-east-1", "000000000000")
    return _monitor(root, traffic / "capture-shifted")


def test_shifted_traffic_drifts_in_length_and_tokens_against_the_approved_versions_reference(
    shifted_run, real_run, traffic
):
    code, summary, run_dir = shifted_run
    assert code == 0
    assert summary["monitoring"]["reference"] == str(
        LocalS3(run_dir.parents[1] / "training-run" / "s3").path(REFERENCE_URI)
    )
    assert summary["monitoring"]["reference_source"].startswith("g version 1 (Approved)")
    shifted = json.loads((run_dir / REPORTS / "report.json").read_text())["drift"]
    real = json.loads((real_run[2] / REPORTS / "report.json").read_text())["drift"]
    assert {"review_length", "token_count"} <= set(shifted["drifted_features"])
    assert len(shifted["drifted_features"]) > len(real["drifted_features"])
    # 40 texts against 150 are noisy at the 0.1 threshold; the shift is far beyond that noise.
    for feature in ("review_length", "token_count"):
        assert shifted["features"][feature]["score"] > 3 * real["features"][feature]["score"]


def test_the_summary_prints_the_report_and_the_drifted_features(traffic, tmp_path, capsys):
    code, _, run_dir = _monitor(tmp_path, traffic / "capture-shifted", "--reference", str(traffic / "reference"))
    out = capsys.readouterr().out
    assert code == 0
    assert f"report:   {run_dir / REPORTS / 'report.html'}" in out
    assert "drifted features:" in out and "    review_length    score" in out
    assert "PublishMetrics=false: written to metrics.json, not published" in out


def test_a_window_without_traffic_is_an_empty_report_not_a_failure(traffic, tmp_path):
    code = main(
        [
            "monitor",
            "--root",
            str(tmp_path),
            "--capture-dir",
            str(traffic / "capture-real"),
            "--reference",
            str(traffic / "reference"),
            "--window-end",
            "2026-12-02T10:30:00Z",
        ]
    )
    assert code == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    report = json.loads((run_dir / f"s3/local-monitoring/reports/{ENDPOINT}/2026/12/02/10/report.json").read_text())
    assert (report["status"], report["records_analysed"]) == ("empty_window", 0)


def test_a_failed_job_exits_1_with_its_exit_message(traffic, tmp_path, capsys):
    hour = tmp_path / "capture" / ENDPOINT / "AllTraffic" / "2026/12/02/10"
    hour.mkdir(parents=True)
    (hour / "broken.jsonl").write_text('not json\n{"captureData": {}}\n')
    code, summary, _ = _monitor(tmp_path, tmp_path / "capture", "--reference", str(traffic / "reference"))
    err = capsys.readouterr().err
    assert code == 1 and summary["status"] == "Failed"
    assert "monitoring execution failed: step DriftMonitor failed: AlgorithmError: none of the 2 captured lines" in err


def test_inference_ids_reach_the_capture(traffic):
    lines = [json.loads(line) for p in sorted((traffic / "capture-real").rglob("*.jsonl")) for line in p.open()]
    assert len(lines) == BATCH and all(line["eventMetadata"]["inferenceId"].startswith("review-") for line in lines)
    assert INFERENCE_ID_HEADER == "X-Amzn-SageMaker-Inference-Id"
