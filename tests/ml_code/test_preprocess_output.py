"""The output contract: split files, their schema (= the feature schema), token ids, the report."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from ml_code.common.features import FEATURE_NAMES, FEATURES
from ml_code.common.labels import ID2LABEL, SENTIMENTS
from ml_code.common.splits import SPLITS, part_file_name
from ml_code.preprocessing.feature_store import to_record
from ml_code.preprocessing.output import SCHEMA
from ml_code.preprocessing.rows import REJECT_REASONS
from tests.conftest import SAMPLE_DATA
from tests.ml_code.preprocess_helpers import AMAZON_HEADER, amazon_row, read_all, run_job, write_csv

FEATURE_STORE_PARSERS = {"Integral": int, "Fractional": float, "String": str}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, tiny_roberta):
    root = tmp_path_factory.mktemp("sample-run")
    (root / "in").mkdir()
    (root / "in" / SAMPLE_DATA.name).symlink_to(SAMPLE_DATA)
    report = run_job(root / "in", root / "out", tiny_roberta)
    return root / "out", report, read_all(root / "out")


def test_each_split_folder_holds_this_hosts_part_file_and_the_report_sits_beside_them(sample_run):
    out, _, _ = sample_run
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        [f"{split}/{part_file_name('algo-1', 0)}" for split in SPLITS] + ["report/processing_report-algo-1.json"]
    )


def test_parquet_columns_are_exactly_the_features_with_their_types(sample_run):
    expected = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}
    for table in sample_run[2].values():
        assert tuple(table.column_names) == FEATURE_NAMES
        for feature in FEATURES:
            want = pa.list_(pa.int32()) if feature.name == "input_ids" else expected[feature.type]
            assert table.schema.field(feature.name).type == want, feature.name
        assert table.schema.equals(SCHEMA)


def test_feature_store_records_carry_exactly_the_features_with_parseable_values(sample_run):
    row = sample_run[2]["train"].slice(0, 1).to_pylist()[0]
    record = to_record(row)
    assert [v["FeatureName"] for v in record] == list(FEATURE_NAMES)
    values = {v["FeatureName"]: v["ValueAsString"] for v in record}
    for feature in FEATURES:
        parsed = json.loads(values[feature.name]) if feature.name == "input_ids" else values[feature.name]
        if feature.name != "input_ids":
            assert FEATURE_STORE_PARSERS[feature.type](parsed) == row[feature.name], feature.name
    assert json.loads(values["input_ids"]) == row["input_ids"]


def test_input_ids_are_unpadded_truncated_and_what_the_transformers_tokenizer_returns(sample_run, tiny_roberta):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_roberta))
    table = sample_run[2]["train"]
    texts, ids = table["review_body"].to_pylist(), table["input_ids"].to_pylist()
    assert ids == tokenizer(texts, truncation=True, max_length=128)["input_ids"]
    assert all(i[0] == tokenizer.bos_token_id and i[-1] == tokenizer.eos_token_id for i in ids)
    assert all(len(i) <= 128 and tokenizer.pad_token_id not in i for i in ids)


def test_truncated_share_and_percentiles_describe_the_written_texts(sample_run, tiny_roberta):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_roberta))
    texts = [t for table in sample_run[2].values() for t in table["review_body"].to_pylist()]
    full = np.array([len(i) for i in tokenizer(texts)["input_ids"]])
    stored = np.minimum(full, 128)
    tokens = sample_run[1]["tokens"]
    assert tokens["truncated_share"] == pytest.approx((full > 128).mean(), abs=1e-6)
    assert tokens["length_percentiles"]["p50"] == int(np.percentile(stored, 50, method="inverted_cdf"))
    assert tokens["length_percentiles"]["p90"] == int(np.percentile(stored, 90, method="inverted_cdf"))
    assert (tokens["min"], tokens["max"]) == (stored.min(), stored.max())


def test_labels_and_sentiments_agree_and_balancing_evens_out_the_labels(sample_run):
    _, report, tables = sample_run
    pairs = {
        (r["label_id"], r["sentiment"])
        for t in tables.values()
        for r in t.select(["label_id", "sentiment"]).to_pylist()
    }
    assert pairs == {(s.label_id, s.value) for s in SENTIMENTS}
    after = report["labels"]["after_balancing"]
    assert len(set(after.values())) == 1 and after["negative"] == min(report["labels"]["before_balancing"].values())
    assert report["balancing"] == {"enabled": True, "rows_per_label": after["negative"]}


def test_the_sample_report_reconciles(sample_run):
    _, report, tables = sample_run
    rows = report["rows"]
    assert rows["read"] == 2100 == rows["kept"] + rows["rejected"]
    assert rows["rejected"] == sum(report["rejected_by_reason"].values()) == report["rejected_by_reason"]["empty_text"]
    assert (
        rows["kept"]
        == sum(report["labels"]["before_balancing"].values())
        == rows["written"] + rows["dropped_by_balancing"]
    )
    assert rows["written"] == sum(report["labels"]["after_balancing"].values()) == sum(len(t) for t in tables.values())
    for split, table in tables.items():
        labels = np.bincount(table["label_id"].to_numpy(), minlength=3)
        assert report["splits"][split] == {
            "rows": len(table),
            "labels": {ID2LABEL[i]: int(labels[i]) for i in range(3)},
        }
    assert report["error"] is None and report["feature_store"]["feature_group"] is None


def test_every_reject_reason_is_counted_once_and_the_counts_reconcile(tmp_path, tiny_roberta):
    rows = [amazon_row(f"R{i}", f"review number {i}", 1 + i % 5) for i in range(30)]
    rows += [
        amazon_row("E1", "   ", 5),  # empty_text
        amazon_row("E2", "&nbsp;<br />", 2),  # empty_text once cleaned
        amazon_row("S1", "good", 0),  # invalid_rating
        amazon_row("S2", "good", "4.5"),  # invalid_rating
        amazon_row("", "good", 4),  # missing_id
        amazon_row("D1", "good", 4, date="31/08/2015x"),  # invalid_date
        amazon_row("X1", "", "x", date="never"),  # several problems: counted once, as empty_text
        amazon_row("R3", "the same review id again", 4),  # duplicate_id
    ]
    path = write_csv(tmp_path / "in" / "amazon.tsv", AMAZON_HEADER, rows, delimiter="\t")
    with path.open("ab") as handle:
        handle.write(b"US\t1\tB1\tP\t2\tt\tApparel\t5\t0\t0\tN\tY\th\tbad \xff byte\t2015-08-31\n")  # invalid_utf8
        handle.write(b"US\t1\tT1\tP\t2\tt\tApparel\t5\t0\t0\tN\tY\th\ta tab\tinside\t2015-08-31\n")  # malformed_row
        handle.write(
            b"US\t1\tC1\tP\t2\tt\tApparel\t5\t0\t0\tN\tY\th\ta NUL\x00 byte\t2015-08-31\n"
        )  # control_character
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--chunk-size", "7")
    assert report["rejected_by_reason"] == {
        "malformed_row": 1,
        "invalid_utf8": 1,
        "empty_text": 3,
        "invalid_rating": 2,
        "missing_id": 1,
        "invalid_date": 1,
        "control_character": 1,
        "duplicate_id": 1,
    }
    assert list(report["rejected_by_reason"]) == list(REJECT_REASONS)
    assert report["duplicates"]["rows"] == 1 and "this instance" in report["duplicates"]["scope"]
    assert report["rows"]["read"] == 41 == report["rows"]["kept"] + report["rows"]["rejected"]
    assert report["rows"]["kept"] == 30
    assert report["labels"]["before_balancing"] == {"negative": 12, "neutral": 6, "positive": 12}
    assert report["rows"]["written"] == 18 and report["rows"]["dropped_by_balancing"] == 12
    assert report["input_files"] == [
        {
            "path": "amazon.tsv",
            "format": "tsv",
            "rows_read": 41,
            "rejected": {k: v for k, v in report["rejected_by_reason"].items() if v},
        }
    ]


def test_source_ids_dates_and_categories_are_carried_through(tmp_path, tiny_roberta):
    rows = [amazon_row(f"R{i}", f"text {i}", 5, date="2015-08-31", category="Shoes") for i in range(5)]
    write_csv(tmp_path / "in" / "a.tsv.gz", AMAZON_HEADER, rows, delimiter="\t")
    run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--no-balance")
    records = [r for t in read_all(tmp_path / "out").values() for r in t.to_pylist()]
    assert sorted(r["review_id"] for r in records) == [f"R{i}" for i in range(5)]
    assert {r["event_time"] for r in records} == {1440979200.0}  # 2015-08-31T00:00:00Z
    assert {r["product_category"] for r in records} == {"Shoes"}


def test_parquet_input_gives_the_same_records_as_csv(tmp_path, tiny_roberta):
    import pandas as pd

    frame = pd.DataFrame(
        {"review_id": ["a", "b", "c"], "review_body": ["fits well", "too small", "ok"], "star_rating": [5, 1, 3]}
    )
    write_csv(tmp_path / "csv" / "r.csv", list(frame.columns), frame.values.tolist())
    (tmp_path / "pq").mkdir()
    frame.to_parquet(tmp_path / "pq" / "r.parquet")
    for name in ("csv", "pq"):
        run_job(tmp_path / name, tmp_path / f"out-{name}", tiny_roberta, "--no-balance")
    assert read_all(tmp_path / "out-csv") == read_all(tmp_path / "out-pq")
