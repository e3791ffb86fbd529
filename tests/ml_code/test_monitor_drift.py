"""ml_code/monitor.py on the real data set, end to end through capture files: a held-out window of
the reference's distribution raises no drift; a window of 1-star reviews cut to 20 characters
drifts in text, length, tokens and the predicted label mix. Scores are Evidently's, with the
methods drift.py fixes per column type, and no NLTK data is ever downloaded."""

from __future__ import annotations

import json
import random

import pytest

from ml_code import monitor
from ml_code.monitoring import drift
from tests.ml_code.monitor_fixtures import line, reviews, write_capture, write_reference

END = "2026-12-02T03:00:12.345Z"
HOUR = "2026/12/02/02"  # the whole hour before END's


@pytest.fixture(scope="module")
def real(real_data, tmp_path_factory):
    """(reference folder, held-out reviews, 1-star reviews): disjoint random parts of the data set."""
    items = reviews(real_data)
    random.Random(7).shuffle(items)
    reference = write_reference(tmp_path_factory.mktemp("reference"), items[:2500])
    return reference, items[2500:4000], [(text, stars) for text, stars in items[2500:] if stars == 1]


@pytest.fixture(autouse=True)
def no_nltk_download(monkeypatch):
    """Evidently imports nltk; a download attempt (no network in a processing job) fails the test."""
    import nltk

    def refuse(*args, **kwargs):
        raise AssertionError(f"nltk.download{args} called: the job must not need NLTK data")

    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.downloader, "download", refuse)


def _run(tmp_path, reference, items) -> dict:
    capture = tmp_path / "capture" / "endpoint"
    lines, i = [], 0
    while i < len(items):  # one-text and three-text requests, as callers mix them
        size = 1 if i % 4 else 3
        chunk = items[i : i + size]
        lines.append(line(f"e{i}", [t for t, _ in chunk], [s for _, s in chunk], inference_id=f"id-{i}"))
        i += size
    half = len(lines) // 2
    write_capture(capture, HOUR, lines[:half], variant="Blue", name="first")
    write_capture(capture, HOUR, lines[half:], variant="Green", name="second")
    report_dir = tmp_path / "report"
    monitor.main(
        [
            "--capture-uri",
            str(capture),
            "--window-end",
            END,
            "--reference-uri",
            str(reference),
            "--report-dir",
            str(report_dir),
            "--endpoint-name",
            "ep",
            "--exit-message-file",
            str(tmp_path / "message"),
        ]
    )
    folder = report_dir / "2026/12/02/03"  # named after the window end
    assert sorted(p.name for p in folder.iterdir()) == ["metrics.json", "report.html", "report.json"]
    return json.loads((folder / "report.json").read_text())


def test_a_held_out_window_of_the_same_distribution_raises_no_drift(real, tmp_path):
    reference, held_out, _ = real
    report = _run(tmp_path, reference, held_out)
    assert report["status"] == "ok" and report["records_analysed"] == len(held_out) == report["counts"]["texts"]
    assert report["counts"]["variants"] == 2 and report["counts"]["files"] == 2
    features = report["drift"]["features"]
    assert list(features) == list(drift.DRIFT_COLUMNS)
    assert report["drift"]["drifted_features"] == [], features
    assert report["drift"]["drifted_share"] == 0 and report["drift"]["text_drift_error"] is None
    for column in drift.NUMERICAL:
        assert features[column]["method"] == "wasserstein" and features[column]["threshold"] == 0.1
        assert features[column]["score"] < 0.05  # sampling noise only: half the threshold at most
    assert features["predicted_label"]["method"] == "jensenshannon" and features["predicted_label"]["score"] < 0.05
    assert features["review_text"]["method"] == "abs_text_content_drift"  # not the percentile variant
    assert features["review_text"]["threshold"] == 0.55 and features["review_text"]["score"] < 0.55


def test_one_star_reviews_cut_to_20_characters_drift(real, tmp_path):
    reference, _, one_star = real
    shifted = [(text[:20], stars) for text, stars in one_star]
    report = _run(tmp_path, reference, shifted)
    features = report["drift"]["features"]
    for column in ("review_text", "review_length", "token_count", "predicted_label", "prob_negative", "prob_positive"):
        assert features[column]["drifted"], (column, features[column])
    assert features["review_text"]["score"] > 0.9  # the domain classifier tells them apart at once
    assert report["drift"]["drifted_share"] >= 0.6
    data = json.loads((tmp_path / "report" / "2026/12/02/03" / "metrics.json").read_text())["MetricData"]
    drifted = {d["Dimensions"][1]["Value"]: d["Value"] for d in data if d["MetricName"] == "FeatureDrifted"}
    assert drifted["review_text"] == drifted["predicted_label"] == 1.0
