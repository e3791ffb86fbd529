"""ml_code/monitor.py on small local fixtures: the window's hours, the ground-truth join and its
figures against hand-computed values, bad input counted, an empty window reported, the two
failures (no reference, nothing usable) explained in the exit message, and publishing."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from ml_code import monitor
from ml_code.monitoring import capture, drift, metrics
from tests.conftest import ROOT
from tests.ml_code.capture_records import capture_line
from tests.ml_code.monitor_fixtures import line, write_capture, write_reference

END = "2026-12-02T03:00:12Z"
WINDOW = "2026/12/02/02"
WORDS = [f"{a}{b}" for a in ("soft", "tight", "lovely", "poor", "cute", "thin", "warm", "odd") for b in "abcdefghij"]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    rng = random.Random(3)
    return write_reference(tmp_path_factory.mktemp("reference"), [(_text(rng), rng.randint(1, 5)) for _ in range(120)])


def _answer(label: str) -> dict:
    probabilities = {name: (0.8 if name == label else 0.1) for name in ("negative", "neutral", "positive")}
    return {"label": label, "score": 0.8, "probabilities": probabilities, "num_tokens": 9, "truncated": False}


def _line(event_id: str, inference_id: str | None, predicted: list[str], content_type: str = "application/json") -> str:
    """A capture line whose answers predict exactly ``predicted``."""
    texts = [f"review {event_id} {i} soft lovely warm" for i in range(len(predicted))]
    body = json.dumps({"inputs": texts[0] if len(texts) == 1 else texts}).encode()
    response = json.dumps([_answer(label) for label in predicted]).encode()
    record = json.loads(capture_line(event_id, body, content_type, response, "application/json", "JSON"))
    if inference_id:
        record["eventMetadata"]["inferenceId"] = inference_id
    return json.dumps(record)


def _main(tmp_path, capture_uri, reference_uri, *extra: str) -> tuple[dict, dict]:
    monitor.main(
        [
            "--capture-uri",
            str(capture_uri),
            "--window-end",
            END,
            "--reference-uri",
            str(reference_uri),
            "--report-dir",
            str(tmp_path / "report"),
            "--endpoint-name",
            "ep",
            "--exit-message-file",
            str(tmp_path / "message"),
            *extra,
        ]
    )
    folder = tmp_path / "report" / "2026/12/02/03"
    return json.loads((folder / "report.json").read_text()), json.loads((folder / "metrics.json").read_text())


def _metrics(data: dict) -> dict:
    """{(name, extra dimension value or None): value}."""
    return {
        (d["MetricName"], d["Dimensions"][1]["Value"] if len(d["Dimensions"]) > 1 else None): d["Value"]
        for d in data["MetricData"]
    }


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-02T03:00:12.345Z",
        "2026-12-02T03:00:12Z",
        "2026-12-02T03:00:12+00:00",
        "2026-12-02T04:00:12+01:00",
        "2026-12-02T03:00:12",
    ],
)
def test_window_end_accepts_sagemakers_start_datetime_renderings(text):
    end = capture.parse_time(text)
    assert end.replace(microsecond=0) == datetime(2026, 12, 2, 3, 0, 12, tzinfo=UTC)
    assert capture.hour_folders(end, 1) == [WINDOW]
    assert capture.hour_folders(end, 3) == ["2026/12/02/00", "2026/12/02/01", "2026/12/02/02"]
    assert capture.hour_folders(capture.parse_time("2026-01-01T00:30:00Z"), 2) == ["2025/12/31/22", "2025/12/31/23"]


def test_a_bad_window_end_fails_with_a_message(tmp_path, reference):
    with pytest.raises(SystemExit, match="not an ISO 8601 time"):
        _main(tmp_path, tmp_path, reference, "--window-end", "yesterday")
    assert "not an ISO 8601 time" in (tmp_path / "message").read_text()


def test_reservoir_keeps_a_bounded_uniform_sample():
    reservoir = capture.Reservoir(100, seed=1)
    for i in range(10_000):
        reservoir.add(i)
    assert len(reservoir.items) == 100 and reservoir.seen == 10_000 and len(set(reservoir.items)) == 100
    assert 3_000 < sum(reservoir.items) / 100 < 7_000  # drawn from the whole stream, not its start


def test_ground_truth_joins_by_inference_id_and_gives_the_hand_computed_figures(tmp_path, reference):
    captured = tmp_path / "capture"
    write_capture(
        captured,
        WINDOW,
        [
            _line("e1", "a", ["negative"]),
            _line("e2", "b", ["positive", "neutral", "negative"]),
            _line("e3", "f", ["neutral"]),
            _line("e4", None, ["positive"]),  # no InferenceId: traffic for drift only
        ],
    )
    write_capture(captured, "2026/12/01/20", [_line("e5", "c", ["positive"])])  # within the 24 h
    write_capture(captured, "2026/12/01/01", [_line("e6", "d", ["positive"])])  # older: not joined
    truth = tmp_path / "truth" / "2026" / "12"
    truth.mkdir(parents=True)
    (truth / "labels.jsonl").write_text(
        "\n".join(
            [
                json.dumps({"inference_id": "a", "label": "negative"}),
                json.dumps({"inference_id": "b", "index": 0, "label": "positive"}),
                json.dumps({"inference_id": "b", "index": 2, "star_rating": 3}),  # neutral; predicted negative
                json.dumps({"inference_id": "b", "label": "positive"}),  # which of b's three texts? ambiguous
                json.dumps({"inference_id": "b", "index": 5, "label": "positive"}),  # b has three texts: ambiguous
                json.dumps({"inference_id": "c", "star_rating": 1}),  # negative; predicted positive
                json.dumps({"inference_id": "f", "label": "neutral"}),
                json.dumps({"inference_id": "d", "label": "positive"}),  # outside the ground-truth hours
                json.dumps({"inference_id": "e", "label": "very good"}),
                json.dumps({"inference_id": "zzz", "star_rating": 5}),  # never captured
                json.dumps({"inference_id": "g", "star_rating": 9}),
                "not json",
                json.dumps({"label": "positive"}),
            ]
        )
        + "\n"
    )
    (truth / "README.txt").write_text("not a label file")
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps({"multiclass_classification_metrics": {"accuracy": {"value": 0.9}}}))
    report, data = _main(
        tmp_path,
        captured,
        reference,
        "--ground-truth-uri",
        str(tmp_path / "truth"),
        "--evaluation-uri",
        str(evaluation),
        "--accuracy-margin",
        "0.05",
    )
    # truth    negative positive neutral  negative neutral
    # predicted negative positive negative positive neutral
    quality = report["model_quality"]
    assert quality["labelled_records"] == 5
    assert quality["accuracy"] == pytest.approx(3 / 5)
    # F1: negative P 1/2 R 1/2 -> 1/2; neutral P 1 R 1/2 -> 2/3; positive P 1/2 R 1 -> 2/3
    assert quality["macro_f1"] == pytest.approx((1 / 2 + 2 / 3 + 2 / 3) / 3)
    assert quality["recall"] == pytest.approx({"negative": 0.5, "neutral": 0.5, "positive": 1.0})
    assert quality["support"] == {"negative": 2, "neutral": 2, "positive": 1}
    assert quality["accuracy_drop"] == pytest.approx(0.3) and quality["accuracy_below_margin"] is True
    counts = report["counts"]
    assert counts["ground_truth_ambiguous"] == 2 and counts["ground_truth_unknown_label"] == 2
    assert counts["ground_truth_unknown_id"] == 2  # d (too old) and zzz
    assert counts["ground_truth_malformed_lines"] == 2 and counts["ground_truth_files"] == 1
    assert counts["ground_truth_labels"] == 9  # readable, with a known class: a, b x4, c, d, f, zzz
    assert counts["records"] == 4 and counts["texts"] == 6 and report["records_analysed"] == 6
    assert report["ground_truth_scan"]["records"] == 1  # e5, from the earlier hour
    figures = _metrics(data)
    assert figures[("LabelledRecords", None)] == 5 and figures[("Accuracy", None)] == pytest.approx(0.6)
    assert figures[("MacroF1", None)] == pytest.approx(quality["macro_f1"])
    assert figures[("Recall", "negative")] == 0.5 and figures[("Recall", "positive")] == 1.0
    assert figures[("AccuracyDrop", None)] == pytest.approx(0.3)
    assert (tmp_path / "report" / "2026/12/02/03" / "model_quality.html").stat().st_size > 1000
    evidently = {
        m["metric_name"].split("(")[0]: m["value"] for m in report["evidently"]["model_quality.html"]["metrics"]
    }
    assert evidently["Accuracy"] == pytest.approx(quality["accuracy"])
    assert evidently["RecallByLabel"] == pytest.approx(quality["recall"])


def test_classification_metrics_agree_with_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    rng = random.Random(5)
    truth = [rng.choice(["negative", "neutral", "positive"]) for _ in range(200)]
    predicted = [t if rng.random() < 0.6 else rng.choice(["negative", "positive"]) for t in truth]
    figures = drift.classification_metrics(truth, predicted)
    assert figures["accuracy"] == pytest.approx(accuracy_score(truth, predicted))
    assert figures["macro_f1"] == pytest.approx(f1_score(truth, predicted, average="macro"))
    labels = ["negative", "neutral", "positive"]
    expected = recall_score(truth, predicted, labels=labels, average=None)
    assert list(figures["recall"].values()) == pytest.approx(list(expected))


def test_bad_lines_are_counted_and_the_good_ones_still_judged(tmp_path, reference):
    captured = tmp_path / "capture"
    good = [line(f"g{i}", [f"soft{i}a warm lovely dress fits well"], [5]) for i in range(5)]
    fewer_answers = json.loads(good[0])
    fewer_answers["captureData"]["endpointOutput"]["data"] = "[]"
    bad = ["{not json", "[1, 2]", line("t", ["plain text"], [4], content_type="text/plain"), json.dumps(fewer_answers)]
    write_capture(captured, WINDOW, good[:3] + bad + good[3:] + ["", "   "])
    report, data = _main(tmp_path, captured, reference)
    counts = report["counts"]
    assert (counts["lines"], counts["records"], counts["texts"]) == (9, 5, 5)
    assert (counts["malformed_lines"], counts["unknown_content_type"], counts["unreadable_records"]) == (2, 1, 1)
    assert counts["ground_truth_unknown_id"] == 0 and report["model_quality"] is None
    assert report["status"] == "ok" and _metrics(data)[("RecordsAnalysed", None)] == 5
    assert {name for name, _ in _metrics(data)} == {
        "RecordsAnalysed",
        "DriftedFeatureShare",
        "FeatureDriftScore",
        "FeatureDrifted",
    }


def test_an_empty_window_is_a_report_with_no_records_and_exit_0(tmp_path, reference):
    captured = tmp_path / "capture"
    write_capture(captured, "2026/12/02/01", [_line("old", None, ["positive"])])  # an hour before the window
    (captured / "AllTraffic" / WINDOW).mkdir(parents=True)
    report, data = _main(tmp_path, captured, reference)  # returns: exit status 0
    assert report["status"] == "empty_window" and report["records_analysed"] == 0 and report["drift"] is None
    assert report["counts"]["lines"] == 0 and report["counts"]["malformed_lines"] == 0
    assert data["Namespace"] == "roberta-sentiment/Monitoring"
    assert data["MetricData"] == [
        {
            "MetricName": "RecordsAnalysed",
            "Dimensions": [{"Name": "Endpoint", "Value": "ep"}],
            "Timestamp": "2026-12-02T03:00:12Z",
            "Value": 0.0,
            "Unit": "Count",
        }
    ]
    assert "No captured traffic" in (tmp_path / "report" / "2026/12/02/03" / "report.html").read_text()
    assert not (tmp_path / "message").exists()
    report, _ = _main(tmp_path, tmp_path / "no-such-capture", reference)  # not even a capture folder yet
    assert report["status"] == "empty_window"


def test_a_missing_reference_fails_with_one_line_in_the_exit_message(tmp_path):
    with pytest.raises(SystemExit) as failure:
        _main(tmp_path, tmp_path, tmp_path / "nowhere")
    message = (tmp_path / "message").read_text()
    assert message.startswith(f"reference {tmp_path / 'nowhere' / 'reference.csv'} is missing or unreadable")
    assert "\n" not in message and str(failure.value) == f"monitor: {message}"
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit, match="lacks columns review_text, review_length"):
        _main(tmp_path, tmp_path, tmp_path / "bad.csv")


def test_a_window_with_no_usable_line_fails_the_job_as_a_script(tmp_path, reference):
    """Run as SageMaker runs it (python3 ml_code/monitor.py): exit 1, the reason in the message file."""
    captured = tmp_path / "capture"
    write_capture(captured, WINDOW, ["{not json", "[]", line("t", ["plain"], [4], content_type="text/plain")])
    command = [
        sys.executable,
        "ml_code/monitor.py",
        "--capture-uri",
        str(captured),
        "--window-end",
        END,
        "--reference-uri",
        str(reference),
        "--report-dir",
        str(tmp_path / "report"),
        "--exit-message-file",
        str(tmp_path / "message"),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    message = (tmp_path / "message").read_text()
    assert message == (
        f"none of the 3 captured lines of ['{WINDOW}'] under {captured} is usable: "
        "malformed_lines 2, unknown_content_type 1, unreadable_records 0"
    )
    assert f"monitor: {message}" in result.stdout and "effective configuration" in result.stdout
    report = json.loads((tmp_path / "report" / "2026/12/02/03" / "report.json").read_text())
    assert report["status"] == "failed" and report["counts"]["malformed_lines"] == 2


def test_metrics_are_published_in_chunks_as_written(tmp_path, reference, monkeypatch):
    import boto3

    captured = tmp_path / "capture"
    write_capture(captured, WINDOW, [line(f"g{i}", [f"warm{i}b lovely soft"], [4]) for i in range(4)])
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(cloudwatch)
    monkeypatch.setattr(monitor, "aws", lambda service: {"cloudwatch": cloudwatch}[service])
    features = {c: {"score": 0.1, "drifted": True} for c in drift.DRIFT_COLUMNS}
    document = {"records_analysed": 4, "drift": {"drifted_share": 0.5, "features": features}}
    written = json.loads(json.dumps(metrics.metric_data(document, "ep", capture.parse_time(END))))
    assert len(written) == 2 + 2 * len(drift.DRIFT_COLUMNS)
    stubber.add_response("put_metric_data", {}, {"Namespace": "ns", "MetricData": written[:7]})
    stubber.add_response("put_metric_data", {}, {"Namespace": "ns", "MetricData": written[7:14]})
    stubber.add_response("put_metric_data", {}, {"Namespace": "ns", "MetricData": written[14:]})
    with stubber:
        assert metrics.publish(cloudwatch, "ns", written, chunk=7) == 3
    stubber.assert_no_pending_responses()
    # The job publishes exactly what metrics.json holds, under the namespace given.
    with Stubber(cloudwatch) as job_stubber:
        job_stubber.add_response("put_metric_data", {}, None)
        report, data = _main(tmp_path, captured, reference, "--publish-metrics", "true", "--metrics-namespace", "x/y")
        job_stubber.assert_no_pending_responses()
    assert data["Namespace"] == "x/y" and len(data["MetricData"]) == len(written)
    names = [d["MetricName"] for d in data["MetricData"]]
    assert names[:3] == ["RecordsAnalysed", "DriftedFeatureShare", "FeatureDriftScore"]


def test_record_texts_gives_the_texts_rows_and_ids_of_one_captured_record():
    from ml_code.monitoring.record_preprocessor import FEATURES, RecordError, preprocess_handler, record_texts
    from tests.ml_code.capture_records import CapturedData

    captured = json.loads(_line("e7", "caller-7", ["positive", "negative"]))
    record = record_texts(captured)
    assert record["texts"] == ["review e7 0 soft lovely warm", "review e7 1 soft lovely warm"]
    assert [row["predicted_label"] for row in record["rows"]] == ["positive", "negative"]
    assert all(list(row) == list(FEATURES) for row in record["rows"])
    assert record["rows"] == preprocess_handler(captured)  # the same parsing as Model Monitor's preprocessor
    assert (record["event_id"], record["inference_id"], record["inference_time"]) == (
        "e7",
        "caller-7",
        "2026-11-30T10:15:00Z",
    )
    analyzer = record_texts(CapturedData(captured))  # the analyzer's object: no inference id attribute
    assert analyzer["texts"] == record["texts"] and analyzer["event_id"] == "e7"
    assert analyzer["inference_id"] is None and analyzer["inference_time"] == "2026-11-30T10:15:00Z"
    captured["captureData"]["endpointInput"]["observedContentType"] = "text/plain"
    with pytest.raises(RecordError, match="not one the endpoint serves"):
        record_texts(captured)


def test_text_drift_that_cannot_be_computed_is_reported_and_the_other_columns_still_judged():
    import pandas as pd

    def rows(texts: list[str], label: str) -> pd.DataFrame:
        answer = _answer(label)
        return pd.DataFrame([{"review_text": t, **features(t, answer)} for t in texts])

    from ml_code.monitoring.record_preprocessor import features

    same_words = ["soft warm lovely"] * 30  # every term in every text: TF-IDF keeps none
    snapshot, judged, error = drift.drift_report(rows(same_words, "positive"), rows(same_words[:1], "negative"), 0.1)
    assert error is not None and "no terms remain" in error
    assert "review_text" not in judged and judged["predicted_label"]["drifted"] is True
    assert judged["review_length"] == {"score": 0.0, "threshold": 0.1, "method": "wasserstein", "drifted": False}
