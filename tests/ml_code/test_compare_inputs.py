"""ml_code/compare.py against CloudWatch (botocore Stubber: per-variant latency and errors read,
metrics published as written) and on bad input: capture without variant folders, a variant or a
whole window without traffic, lines of no usable kind, run as SageMaker runs the script."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from ml_code import compare
from ml_code.monitoring import comparison
from tests.ml_code.monitor_fixtures import write_capture
from tests.ml_code.test_compare_fixtures import END, REPORT, WINDOW, line, run

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}
START, STOP = datetime(2026, 12, 2, 2, tzinfo=UTC), datetime(2026, 12, 2, 3, tzinfo=UTC)


def _traffic(tmp_path: Path) -> Path:
    captured = tmp_path / "capture" / "ep"
    write_capture(captured, WINDOW, [line("c1", "a", ["t"], [("positive", 0.9)])])
    write_capture(captured, WINDOW, [line("h1", "a", ["t"], [("positive", 0.7)])], variant="Challenger")
    return captured


def _results(values: dict) -> list[dict]:
    return [{"Id": key, "Label": key, "Values": value, "StatusCode": "Complete"} for key, value in values.items()]


@pytest.fixture
def cloudwatch(monkeypatch):
    client = boto3.client("cloudwatch", **KEYS)
    monkeypatch.setattr(compare, "aws", lambda service: {"cloudwatch": client}[service])
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_cloudwatch_figures_per_variant_from_get_metric_data(tmp_path, cloudwatch):
    queries = comparison.cloudwatch_queries("ep", {"champion": "AllTraffic", "challenger": "Challenger"}, 3600)
    assert queries[0] == {
        "Id": "champion_invocations",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SageMaker",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}],
            },
            "Period": 3600,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
    assert [(q["Id"], q["MetricStat"]["Stat"]) for q in queries[3:5]] == [
        ("champion_latency_p50", "p50"),
        ("champion_latency_p99", "p99"),
    ]
    expected = {"MetricDataQueries": queries, "StartTime": START, "EndTime": STOP, "ScanBy": "TimestampAscending"}
    first = {"champion_invocations": [200.0], "champion_errors_4xx": [6.0], "champion_errors_5xx": [4.0]}
    first |= {"champion_latency_p50": [25_000.0], "champion_latency_p99": [180_000.0]}
    # The challenger's figures on a second page; it had no errors (CloudWatch returns no datapoint).
    second = {
        "challenger_invocations": [20.0],
        "challenger_latency_p50": [30_000.0],
        "challenger_latency_p99": [90_000.0],
    }
    cloudwatch.add_response("get_metric_data", {"MetricDataResults": _results(first), "NextToken": "n"}, expected)
    cloudwatch.add_response("get_metric_data", {"MetricDataResults": _results(second)}, {**expected, "NextToken": "n"})
    report, data, text = run(tmp_path, _traffic(tmp_path), "--cloudwatch", "true")
    assert report["variants"]["champion"]["cloudwatch"] == {
        "invocations": 200.0,
        "errors_4xx": 6.0,
        "errors_5xx": 4.0,
        "error_rate": 0.05,
        "latency_p50_ms": 25.0,
        "latency_p99_ms": 180.0,
    }
    assert report["variants"]["challenger"]["cloudwatch"] == {
        "invocations": 20.0,
        "errors_4xx": None,
        "errors_5xx": None,
        "error_rate": 0.0,
        "latency_p50_ms": 30.0,
        "latency_p99_ms": 90.0,
    }
    assert report["cloudwatch"] == {"enabled": True, "namespace": "AWS/SageMaker", "period_seconds": 3600}
    assert "| latency p99 ms | 180.0000 | 90.0000 |" in text and "| error rate | 0.0500 | 0.0000 |" in text


def test_a_cloudwatch_failure_is_reported_and_the_capture_figures_stand(tmp_path, cloudwatch):
    cloudwatch.add_client_error("get_metric_data", "AccessDenied", "not allowed: cloudwatch:GetMetricData")
    report, _, text = run(tmp_path, _traffic(tmp_path), "--cloudwatch", "true")
    assert report["status"] == "ok" and report["variants"]["champion"]["records"] == 1
    assert "AccessDenied" in report["cloudwatch"]["error"] and report["cloudwatch"]["enabled"] is True
    assert report["variants"]["challenger"]["cloudwatch"]["latency_p50_ms"] is None
    assert "CloudWatch: An error occurred (AccessDenied)" in text


def test_metrics_are_published_exactly_as_written(tmp_path, cloudwatch):
    captured = _traffic(tmp_path)
    run(tmp_path / "first", captured, "--metrics-namespace", "x/y")
    written = json.loads((tmp_path / "first" / "report" / REPORT / "metrics.json").read_text())
    cloudwatch.add_response("put_metric_data", {}, {"Namespace": "x/y", "MetricData": written["MetricData"]})
    _, data, _ = run(tmp_path, captured, "--metrics-namespace", "x/y", "--publish-metrics", "true")
    assert data == written
    assert [d["MetricName"] for d in data["MetricData"]] == [
        "Records",
        "MeanConfidence",
        "Records",
        "MeanConfidence",
        "Agreement",
    ]
    assert data["MetricData"][0]["Unit"] == "Count" and data["MetricData"][0]["Timestamp"] == "2026-12-02T03:00:12Z"


@pytest.mark.parametrize("layout", ["hour folders", "files"])
def test_capture_without_variant_folders_fails_with_one_line(tmp_path, layout):
    captured = tmp_path / "capture" / "ep"
    folder = captured / WINDOW if layout == "hour folders" else captured
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text(line("c1", None, ["t"], [("positive", 0.9)]) + "\n")
    with pytest.raises(SystemExit, match="no variant folders"):
        run(tmp_path, captured)
    found = "hour folders (2026/...)" if layout == "hour folders" else "files"
    assert (tmp_path / "message").read_text() == (
        f"capture under {captured} has {found} directly under it, no variant folders: pass the endpoint's capture "
        "prefix <capture prefix>/<endpoint>, whose folders are the variants"
    )


def test_a_variant_without_traffic_is_a_reported_state(tmp_path):
    captured = tmp_path / "capture" / "ep"
    write_capture(captured, WINDOW, [line("c1", "a", ["t"], [("negative", 0.9)])])
    report, data, text = run(tmp_path, captured, "--recommend-margin", "0.02", "--recommend-min-labelled", "1")
    challenger = report["variants"]["challenger"]
    assert report["status"] == "ok"
    assert challenger["records"] == 0 and challenger["texts"] == 0
    assert (
        challenger["prediction_mix"] is None
        and challenger["mean_confidence"] is None
        and challenger["accuracy"] is None
    )
    assert report["shadow"]["pairs"] == 0 and report["shadow"]["agreement"] is None
    assert report["shadow"]["unpaired"] == {"champion": 1, "challenger": 0}
    assert report["recommendation"]["recommended"] == "undecided"
    names = [(d["MetricName"], d["Dimensions"][1]["Value"]) for d in data["MetricData"]]
    assert ("Records", "Challenger") in names and ("MeanConfidence", "Challenger") not in names
    assert "| mean confidence | 0.9000 | n/a |" in text


def test_an_empty_window_is_no_traffic_and_exit_0(tmp_path):
    captured = tmp_path / "capture" / "ep"
    write_capture(captured, "2026/12/01/02", [line("c1", "a", ["t"], [("negative", 0.9)])])  # outside the window
    report, data, _ = run(tmp_path, captured)
    assert report["status"] == "no_traffic" and report["variants"]["champion"]["records"] == 0
    assert [d["Value"] for d in data["MetricData"]] == [0.0, 0.0]
    report, _, _ = run(tmp_path, tmp_path / "missing" / "ep")
    assert report["status"] == "no_traffic" and report["counts"]["other_variants"] == {}


def test_a_window_with_no_usable_line_fails_the_job_as_a_script(tmp_path):
    """Run as SageMaker runs it (python3 ml_code/compare.py): exit 1, the reason in the message file."""
    captured = tmp_path / "capture" / "ep"
    write_capture(captured, WINDOW, ["{not json", "[]"])
    write_capture(captured, WINDOW, ['{"captureData": {}}'], variant="Challenger")
    command = [sys.executable, "ml_code/compare.py", "--capture-uri", str(captured), "--window-end", END]
    command += [
        "--window-hours",
        "1",
        "--report-dir",
        str(tmp_path / "report"),
        "--exit-message-file",
        str(tmp_path / "message"),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    message = (tmp_path / "message").read_text()
    assert message == (
        f"no captured line of either variant in ['{WINDOW}'] under {captured} is usable: "
        "AllTraffic lines 2, malformed_lines 2, unknown_content_type 0, unreadable_records 0; "
        "Challenger lines 1, malformed_lines 0, unknown_content_type 0, unreadable_records 1"
    )
    assert f"compare: {message}" in result.stdout
    report = json.loads((tmp_path / "report" / REPORT / "comparison.json").read_text())
    assert report["status"] == "failed" and report["variants"]["champion"]["counts"]["malformed_lines"] == 2


def test_ground_truth_for_unknown_ids_and_bad_lines_is_counted(tmp_path):
    captured = _traffic(tmp_path)
    truth = tmp_path / "truth"
    truth.mkdir()
    entries = [{"inference_id": "a", "label": "positive"}, {"inference_id": "gone", "label": "neutral"}]
    (truth / "l.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e in entries) + '{"label": 1}\n{"inference_id": "b", "label": "meh"}\n'
    )
    report, _, _ = run(tmp_path, captured, "--ground-truth-uri", str(truth))
    assert report["ground_truth"] == {
        "uri": str(truth),
        "ground_truth_files": 1,
        "ground_truth_labels": 2,
        "ground_truth_malformed_lines": 1,
        "ground_truth_unknown_label": 1,
        "ground_truth_unknown_id": 1,
        "ground_truth_ambiguous": 0,
    }
    # One label for the shadow pair: both variants labelled on it, and on the shared pair.
    assert report["variants"]["challenger"]["labelled"] == 1 and report["shadow"]["labelled_pairs"]["labelled"] == 1
