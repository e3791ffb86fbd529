"""Bias figures without Clarify (ml_code/common/facets.py): the maths against hand-computed
values, the processing report's pre-training section (also over shards), evaluate.py's facets."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ml_code.common import facets
from ml_code.common.facets import (
    FACET_COLUMNS,
    MAX_ACCURACY_GAP_JSON_PATH,
    MISSING_VALUE,
    FacetCounts,
    merged_pre_training,
    post_training_bias,
    pre_training_bias,
)
from ml_code.common.features import FEATURE_NAMES
from ml_code.evaluate import bias_markdown, read_facets
from tests.ml_code.preprocess_helpers import AMAZON_HEADER, amazon_row, read_report, run_job, write_csv

# Hand-computed: 25 rows, 14 positive.
COUNTS = {
    "A": {"negative": 2, "neutral": 1, "positive": 7},  # 10 rows, q = 0.7, rest 7/15
    "B": {"negative": 6, "neutral": 2, "positive": 2},  # 10 rows, q = 0.2, rest 12/15
    "C": {"negative": 0, "neutral": 0, "positive": 5},  # 5 rows,  q = 1.0, rest 9/20
}


def _at(document: dict, dotted: str):
    for key in dotted.split("."):
        document = document[key]
    return document


def test_facet_columns_are_split_file_features():
    assert FACET_COLUMNS == ("product_category",) and set(FACET_COLUMNS) <= set(FEATURE_NAMES)
    assert facets.POSITIVE_LABEL == "positive"


def test_class_imbalance_and_dpl_against_hand_computed_values():
    figures = pre_training_bias(COUNTS, min_group_size=10)
    assert figures["A"]["ci"] == pytest.approx((10 - 15) / 25)
    assert figures["A"]["dpl"] == pytest.approx(0.7 - 7 / 15, abs=1e-6)
    assert figures["B"]["ci"] == pytest.approx(-0.2) and figures["B"]["dpl"] == pytest.approx(0.2 - 0.8)
    assert figures["C"]["ci"] == pytest.approx((5 - 20) / 25) and figures["C"]["dpl"] == pytest.approx(1 - 0.45)
    assert figures["C"]["positive_share"] == 1.0 and figures["A"]["rows"] == 10
    assert figures["B"]["labels"] == COUNTS["B"]
    assert [figures[v]["below_min_group_size"] for v in "ABC"] == [False, False, True]


def test_a_single_group_has_no_rest_to_compare_with():
    figures = pre_training_bias({MISSING_VALUE: {"negative": 1, "positive": 3}})
    assert figures[MISSING_VALUE]["ci"] == 1.0 and figures[MISSING_VALUE]["dpl"] is None
    assert pre_training_bias({}) == {}


def test_counts_name_empty_values_and_stay_bounded(monkeypatch):
    counts = FacetCounts()
    counts.add(["Tops", "", None, "  Tops ", "Dresses"], [2, 0, 1, 2, 0])
    assert counts.by_value() == {
        MISSING_VALUE: {"negative": 1, "neutral": 1, "positive": 0},
        "Dresses": {"negative": 1, "neutral": 0, "positive": 0},
        "Tops": {"negative": 0, "neutral": 0, "positive": 2},
    }
    monkeypatch.setattr(facets, "MAX_VALUES", 2)
    bounded = FacetCounts()
    bounded.add(["a", "b", "c", "d", "a"], [0, 0, 0, 2, 1])
    assert bounded.by_value() == {
        "a": {"negative": 1, "neutral": 1, "positive": 0},
        "b": {"negative": 1, "neutral": 0, "positive": 0},
        facets.OTHER_VALUE: {"negative": 1, "neutral": 0, "positive": 1},
    }


# Hand-computed post-training fixture: X 3/4 right, Y 2/3 right, Z 0/1 right.
FACET = ["X", "X", "X", "X", "Y", "Y", "Y", "Z"]
Y_TRUE = [0, 1, 2, 2, 0, 0, 2, 1]
Y_PRED = [0, 2, 2, 2, 1, 0, 2, 0]


def test_per_facet_accuracy_recall_and_gap_against_hand_computed_values():
    bias = post_training_bias({"product_category": FACET}, Y_TRUE, Y_PRED, min_group_size=3)
    groups = bias["facets"]["product_category"]
    assert groups["X"] == {
        "count": 4,
        "accuracy": 0.75,
        "recall": {"negative": 1.0, "neutral": 0.0, "positive": 1.0},
        "below_min_group_size": False,
    }
    assert groups["Y"]["accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert groups["Y"]["recall"] == {"negative": 0.5, "neutral": None, "positive": 1.0}  # no neutral in Y
    assert groups["Z"] == {
        "count": 1,
        "accuracy": 0.0,
        "recall": {"negative": None, "neutral": 0.0, "positive": None},
        "below_min_group_size": True,
    }
    gap = bias["max_accuracy_gap"]
    assert gap["value"] == pytest.approx(0.75 - 2 / 3, abs=1e-6)
    assert (gap["facet"], gap["groups"], gap["min_group_size"]) == ("product_category", ["X", "Y"], 3)


def test_min_group_size_decides_which_groups_count_in_the_gap():
    everyone = post_training_bias({"product_category": FACET}, Y_TRUE, Y_PRED, min_group_size=1)
    assert everyone["max_accuracy_gap"]["value"] == 0.75 and everyone["max_accuracy_gap"]["groups"] == ["X", "Z"]
    alone = post_training_bias({"product_category": FACET}, Y_TRUE, Y_PRED, min_group_size=4)
    assert alone["max_accuracy_gap"] == {"value": 0.0, "facet": None, "groups": [], "min_group_size": 4}
    assert set(alone["facets"]["product_category"]) == {"X", "Y", "Z"}  # small groups are still reported


def test_the_largest_gap_over_several_facet_columns_wins():
    columns = {"product_category": FACET, "other": ["p"] * 4 + ["q"] * 4}  # p 3/4, q 2/4
    bias = post_training_bias(columns, Y_TRUE, Y_PRED, min_group_size=3)
    assert bias["max_accuracy_gap"]["facet"] == "other" and bias["max_accuracy_gap"]["value"] == 0.25


@pytest.mark.parametrize("columns", [{}, {"product_category": [""] * 8}, {"product_category": [MISSING_VALUE] * 8}])
def test_the_gap_key_is_always_there(columns):
    bias = post_training_bias(columns, Y_TRUE, Y_PRED)
    value = _at({"bias": bias}, MAX_ACCURACY_GAP_JSON_PATH)
    assert isinstance(value, float) and value == 0.0
    assert json.loads(json.dumps(bias)) == bias
    assert "Largest accuracy gap" in bias_markdown(bias)


def test_facets_are_read_in_example_order_and_default_when_the_column_is_missing(tmp_path):
    ids = pa.array([[0, 5, 2]] * 2, type=pa.list_(pa.int32()))
    first = pa.table({"input_ids": ids, "label_id": [0, 1], "product_category": ["Tops", ""]})
    pq.write_table(first, tmp_path / "part-algo-1-00000.parquet")
    pq.write_table(pa.table({"input_ids": ids, "label_id": [2, 2]}), tmp_path / "part-algo-2-00000.parquet")
    assert read_facets(tmp_path) == {"product_category": ["Tops", "", MISSING_VALUE, MISSING_VALUE]}
    bias = post_training_bias(read_facets(tmp_path), [0, 1, 2, 2], [0, 0, 2, 2], min_group_size=1)
    assert bias["facets"]["product_category"][MISSING_VALUE]["count"] == 3
    assert bias["max_accuracy_gap"]["groups"] == ["Tops", MISSING_VALUE]


# The processing report, through the job.
def _reviews(prefix: str, plan: dict[str, list[int]]) -> list[list]:
    """Amazon-format rows: per category, one review per star rating listed."""
    rows = []
    for category, stars in plan.items():
        rows += [
            amazon_row(f"{prefix}{category}{i}", f"review {i} of {category}", s, category=category)
            for i, s in enumerate(stars)
        ]
    return rows


# Over both files: Shoes 3 negative, 1 neutral, 4 positive; Toys 1 neutral, 1 positive; no category 2 positive.
FIRST = {"Shoes": [1, 2, 3, 4, 5], "Toys": [3, 4]}
SECOND = {"Shoes": [1, 5, 5], "": [4, 5]}


def _section(report: dict) -> dict:
    return report["bias"]["pre_training"]


def test_the_report_counts_every_kept_row_per_category_before_balancing(tiny_roberta, tmp_path):
    write_csv(tmp_path / "in" / "reviews.tsv", AMAZON_HEADER, _reviews("a", FIRST) + _reviews("b", SECOND), "\t")
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--balance")
    section = _section(report)
    assert report["rows"]["dropped_by_balancing"] > 0 and "before balancing" in section["data"]
    assert (section["positive_label"], section["min_group_size"]) == ("positive", facets.MIN_GROUP_SIZE)
    figures = section["facets"]["product_category"]
    assert {v: f["labels"] for v, f in figures.items()} == {
        MISSING_VALUE: {"negative": 0, "neutral": 0, "positive": 2},
        "Shoes": {"negative": 3, "neutral": 1, "positive": 4},
        "Toys": {"negative": 0, "neutral": 1, "positive": 1},
    }
    # 12 rows, 7 positive: Shoes 8 rows (4 positive), rest 4 (3 positive).
    assert figures["Shoes"]["ci"] == pytest.approx((8 - 4) / 12, abs=1e-6)
    assert figures["Shoes"]["dpl"] == pytest.approx(4 / 8 - 3 / 4)
    assert all(f["below_min_group_size"] for f in figures.values())


def test_shard_reports_merge_into_the_single_runs_figures(tiny_roberta, tmp_path):
    files = {
        "algo-1": write_csv(tmp_path / "files" / "one.tsv", AMAZON_HEADER, _reviews("a", FIRST), "\t"),
        "algo-2": write_csv(tmp_path / "files" / "two.tsv", AMAZON_HEADER, _reviews("b", SECOND), "\t"),
    }
    (tmp_path / "single" / "in").mkdir(parents=True)
    for file in files.values():
        (tmp_path / "single" / "in" / file.name).symlink_to(file)
    single = run_job(tmp_path / "single" / "in", tmp_path / "single" / "out", tiny_roberta)
    shards = []
    for host, file in files.items():
        root = tmp_path / host
        (root / "in").mkdir(parents=True)
        (root / "in" / file.name).symlink_to(file)
        config = root / "resourceconfig.json"
        config.write_text(json.dumps({"current_host": host, "hosts": list(files)}))
        run_job(root / "in", root / "out", tiny_roberta, "--resource-config", str(config), host=host)
        shards.append(read_report(root / "out", host))
    assert _section(shards[0]) != _section(single)  # each shard describes its own files
    assert merged_pre_training(shards) == _section(single)


def test_reports_without_the_section_merge_to_empty_figures():
    merged = merged_pre_training([{"labels": {}}, {}])
    assert merged["facets"] == {column: {} for column in FACET_COLUMNS}


def test_module_constants_are_what_the_pipeline_reads():
    assert MAX_ACCURACY_GAP_JSON_PATH == "bias.max_accuracy_gap.value"
