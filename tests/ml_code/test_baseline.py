"""ml_code/baseline.py on a train split of the real data set, scored by the tiny model: one row per
sampled review with the features serving computes, a deterministic sample in the chosen label mix,
and rows identical to what the record preprocessor makes of the same reviews as captured traffic."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from transformers import AutoTokenizer

from ml_code import baseline
from ml_code.baseline import BaselineError, quotas, sample_reviews
from ml_code.common.labels import ID2LABEL
from ml_code.monitoring.record_preprocessor import FEATURES, LABELS
from tests.conftest import ROOT
from tests.ml_code.capture_records import analyze, capture_line, handler_response
from tests.ml_code.split_fixtures import write_splits
from tests.ml_code.training_fixtures import share_cores, trained_run  # noqa: F401 (share_cores: autouse)

RECORDS = 240
# Class counts of the whole data set before balancing (../shared/data/README.md): 2,407 / 2,871 / 18,208.
NATURAL = {"negative": 2407, "neutral": 2871, "positive": 18208}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_roberta):
    return trained_run(tmp_path_factory, tiny_roberta)


@pytest.fixture(scope="module")
def splits(tmp_path_factory, real_data, tiny_roberta):
    """Splits of the first 3,000 shuffled real reviews (natural class mix, not balanced) and a report."""
    out = tmp_path_factory.mktemp("real-splits")
    folders = write_splits(real_data, out, AutoTokenizer.from_pretrained(str(tiny_roberta)), limit=3000)
    report = out / "report"
    report.mkdir()
    # Two instances' reports, as a sharded Preprocess writes them: the shares come from their sum.
    for host, share in (("algo-1", 0.25), ("algo-2", 0.75)):
        before = {label: round(count * share) for label, count in NATURAL.items()}
        (report / f"processing_report-{host}.json").write_text(json.dumps({"labels": {"before_balancing": before}}))
    return folders["train"], report


@pytest.fixture(scope="module")
def run(tmp_path_factory, trained, splits):
    """baseline.main once, as the pipeline runs it (model.tar.gz in, CSV and summary out)."""
    train_dir, report_dir = splits
    out = tmp_path_factory.mktemp("baseline")
    model_dir = out / "model"
    model_dir.mkdir()
    (model_dir / "model.tar.gz").write_bytes((trained / "model.tar.gz").read_bytes())
    baseline.main(
        [
            "--model-dir",
            str(model_dir),
            "--train-dir",
            str(train_dir),
            "--report-dir",
            str(report_dir),
            "--dataset-dir",
            str(out / "dataset"),
            "--summary-dir",
            str(out / "summary"),
            "--reference-dir",
            str(out / "reference"),
            "--max-records",
            str(RECORDS),
            "--chunk-size",
            "100",
            "--exit-message-file",
            str(out / "message"),
        ]
    )
    with open(out / "dataset" / "baseline.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    summary = json.loads((out / "summary" / "baseline_summary.json").read_text())
    return header, rows, summary, out


def test_the_monitoring_reference_is_each_baseline_row_with_its_text_and_true_class(run, splits):
    """ml_code/monitor.py reads reference.csv with pandas: text (CRLF, quotes and all) survives the trip."""
    import pandas as pd

    header, rows, _, out = run
    sample, _ = sample_reviews(splits[0], RECORDS, _shares())
    assert [p.name for p in (out / "reference").iterdir()] == ["reference.csv"]
    reference = pd.read_csv(out / "reference" / "reference.csv", keep_default_na=False)
    assert list(reference.columns) == ["review_text", *FEATURES, "label"] and len(reference) == len(rows)
    assert reference["review_text"].tolist() == [s["text"] for s in sample]
    assert reference["label"].tolist() == [s["label"] for s in sample]
    assert any("\r\n" in text for text in reference["review_text"])  # the data set's line breaks, kept
    as_text = reference[list(header)].astype(str).to_dict("records")
    assert [row["predicted_label"] for row in as_text] == [row["predicted_label"] for row in rows]
    assert reference["confidence"].tolist() == [float(row["confidence"]) for row in rows]
    assert reference["token_count"].tolist() == [int(row["token_count"]) for row in rows]


def _shares() -> dict[str, float]:
    total = sum(NATURAL.values())
    return {label: count / total for label, count in NATURAL.items()}


def test_one_row_per_sampled_review_with_the_features_serving_computes(run, splits, tiny_roberta):
    header, rows, summary, out = run
    sample, _ = sample_reviews(splits[0], RECORDS, _shares())
    assert header == list(FEATURES) and len(rows) == len(sample) == summary["records"] > 0
    assert [p.name for p in (out / "dataset").iterdir()] == ["baseline.csv"]  # the analyzer reads the whole folder
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_roberta))
    max_length = summary["max_length"]
    assert max_length == 128  # the trained model's model_max_length, as serving truncates
    for review, row in zip(sample, rows, strict=True):
        assert int(row["review_length"]) == len(review["text"])
        assert int(row["token_count"]) == len(tokenizer(review["text"])["input_ids"])
        assert int(row["truncated"]) == int(int(row["token_count"]) > max_length)
        assert row["predicted_label"] in LABELS
        probabilities = [float(row[f"prob_{label}"]) for label in LABELS]
        assert float(row["confidence"]) == max(probabilities) and sum(probabilities) == pytest.approx(1, abs=1e-5)
    assert {row["truncated"] for row in rows} == {"0", "1"}  # reviews near 500 characters exceed 128 tokens


def test_summary_label_distribution_sums_to_one_and_matches_the_rows(run):
    _, rows, summary, _ = run
    predicted = summary["predicted_label_shares"]
    assert sum(predicted.values()) == pytest.approx(1.0)
    assert predicted == {
        label: round(sum(r["predicted_label"] == label for r in rows) / len(rows), 6)
        for label in sorted({r["predicted_label"] for r in rows})
    }
    assert summary["truncated_share"] == pytest.approx(sum(r["truncated"] == "1" for r in rows) / len(rows), abs=1e-6)
    assert sum(summary["true_label_shares"].values()) == pytest.approx(1.0)


def test_natural_label_mix_follows_the_reports_classes_before_balancing(run, splits):
    _, _, summary, _ = run
    for label, share in _shares().items():
        assert summary["true_label_shares"][label] == pytest.approx(share, abs=0.01)
    balanced, _ = sample_reviews(splits[0], 90, {label: 1 / 3 for label in LABELS})
    assert [sum(r["label"] == label for r in balanced) for label in LABELS] == [30, 30, 30]


def test_the_sample_is_the_same_whatever_the_part_files_and_their_order(splits, tmp_path):
    train_dir = splits[0]
    table = pa.concat_tables(pq.read_table(p) for p in sorted(train_dir.glob("part-*.parquet")))
    reordered = tmp_path / "train"
    reordered.mkdir()
    reversed_rows = table.take(list(range(table.num_rows - 1, -1, -1)))
    pq.write_table(reversed_rows.slice(0, 500), reordered / "part-algo-2-00000.parquet")
    pq.write_table(reversed_rows.slice(500), reordered / "part-algo-1-00000.parquet")
    assert sample_reviews(reordered, 100, _shares()) == sample_reviews(train_dir, 100, _shares())


def test_baseline_rows_equal_what_the_record_preprocessor_makes_of_the_same_reviews_served(run, splits, trained):
    """Baseline and monitoring cannot diverge: the same review, scored offline or captured live, is one row."""
    from ml_code.inference import model_fn

    _, rows, _, _ = run
    sample, _ = sample_reviews(splits[0], RECORDS, _shares())
    texts = [review["text"] for review in sample[:6]]
    body = json.dumps({"inputs": texts}).encode()
    response = handler_response(body, "application/json", "application/json", model_fn(str(trained / "model")))
    (captured,) = analyze([capture_line("live", body, "application/json", response, "application/json", "JSON")])
    as_csv = [{name: str(value) for name, value in row.items()} for row in captured]
    assert as_csv == rows[:6]


@pytest.mark.parametrize(
    ("available", "shares", "limit", "expected"),
    [
        (
            {"negative": 300, "neutral": 300, "positive": 300},
            {"negative": 0.1, "neutral": 0.1, "positive": 0.8},
            5000,
            {"negative": 37, "neutral": 37, "positive": 300},
        ),  # the rarest class in its share bounds the total
        (
            {"negative": 9000, "neutral": 9000, "positive": 9000},
            {"negative": 0.25, "neutral": 0.25, "positive": 0.5},
            1000,
            {"negative": 250, "neutral": 250, "positive": 500},
        ),
        (
            {"negative": 0, "neutral": 50, "positive": 50},
            {"negative": 0.5, "neutral": 0.25, "positive": 0.25},
            1000,
            {"neutral": 50, "positive": 50},
        ),  # a class the split lacks is left out, the rest re-weighted
    ],
)
def test_quotas(available, shares, limit, expected):
    assert quotas(available, shares, limit) == expected


def test_missing_inputs_fail_with_a_message_for_the_processing_job(splits, tmp_path):
    message = tmp_path / "message"
    args = ["--train-dir", str(splits[0]), "--model-dir", str(tmp_path), "--exit-message-file", str(message)]
    with pytest.raises(SystemExit, match="no processing report with labels.before_balancing"):
        baseline.main([*args, "--report-dir", str(tmp_path / "none")])
    assert "no processing report" in message.read_text()
    with pytest.raises(BaselineError, match="no review_body column"):
        bare = tmp_path / "bare"
        bare.mkdir()
        pq.write_table(pa.table({"review_id": ["a"], "label_id": [0]}), bare / "part-algo-1-00000.parquet")
        sample_reviews(bare, 10, None)
    assert set(ID2LABEL.values()) == set(LABELS)


def test_runs_as_a_script_and_help_explains_the_outputs():
    command = [sys.executable, "ml_code/baseline.py", "--help"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    fragments = ("--max-records", "--label-mix", "baseline.csv", "/opt/ml/processing/train", "before balancing")
    for fragment in (*fragments, "--reference-dir", "reference.csv"):
        assert fragment in result.stdout
