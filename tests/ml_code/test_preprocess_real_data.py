"""The whole course data set (../shared/data), quirks and all; skipped where it is absent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_code.common.facets import MIN_GROUP_SIZE, MISSING_VALUE
from ml_code.common.labels import ID2LABEL, sentiment_for_stars
from tests.ml_code.preprocess_helpers import read_all, run_job


@pytest.fixture(scope="module")
def expected(real_data):
    """Counts computed independently with pandas, as the README describes the file."""
    frame = pd.read_csv(real_data, index_col=0)
    kept = frame[frame["Review Text"].fillna("").str.strip() != ""]
    labels = kept["Rating"].map(lambda s: sentiment_for_stars(s).label_id).value_counts()
    return {"read": len(frame), "kept": len(kept), "labels": {ID2LABEL[i]: int(labels[i]) for i in ID2LABEL}}


@pytest.fixture(scope="module")
def unbalanced(real_data, tiny_roberta, tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    (root / "in").mkdir()
    (root / "in" / real_data.name).symlink_to(real_data)
    report = run_job(root / "in", root / "out", tiny_roberta, "--no-balance")
    return report, pd.concat([t.to_pandas() for t in read_all(root / "out").values()])


def test_counts_match_the_data_set_and_reconcile(unbalanced, expected):
    report, records = unbalanced
    assert expected["read"] == 23486 and expected["kept"] == 23486 - 845  # the README's figures
    assert report["rows"]["read"] == expected["read"]
    assert report["rows"]["kept"] == expected["kept"] == len(records)
    assert report["rejected_by_reason"]["empty_text"] == 845 == report["rows"]["rejected"]
    assert report["labels"]["before_balancing"] == expected["labels"]


def test_report_has_pre_training_bias_per_department(unbalanced, real_data):
    figures = unbalanced[0]["bias"]["pre_training"]["facets"]["product_category"]
    frame = pd.read_csv(real_data, index_col=0)
    kept = frame[frame["Review Text"].fillna("").str.strip() != ""]
    department = kept["Department Name"].fillna("").str.strip().replace("", MISSING_VALUE)
    positive = kept["Rating"] >= 4
    assert set(figures) == set(department) >= {"Tops", "Dresses", "Bottoms", "Intimate", "Jackets", "Trend"}
    for name, rows in department.value_counts().items():
        member = department == name
        assert figures[name]["rows"] == rows == sum(figures[name]["labels"].values())
        assert figures[name]["labels"]["positive"] == positive[member].sum()
        assert figures[name]["ci"] == pytest.approx((rows - (~member).sum()) / len(kept), abs=1e-6)
        assert figures[name]["dpl"] == pytest.approx(positive[member].mean() - positive[~member].mean(), abs=1e-6)
        assert figures[name]["below_min_group_size"] == (rows < MIN_GROUP_SIZE)
    assert figures["Tops"]["ci"] < 0 and figures[MISSING_VALUE]["below_min_group_size"]


def test_quirks_are_cleaned_out_of_every_text(unbalanced):
    texts = unbalanced[1]["review_body"]
    for quirk in ("ã©", "ã¼", "&#39;", "&quot;", "&amp;", "\r", "\n", "  ", "\u00a0"):
        assert not texts.str.contains(quirk, regex=False).any(), repr(quirk)
    assert texts.str.contains("fiancé", regex=False).any() and texts.str.contains("über", regex=False).any()
    assert (texts == texts.str.strip()).all() and (texts != "").all()


def test_duplicates_keep_their_own_ids_and_missing_departments_are_empty(unbalanced):
    records = unbalanced[1]
    assert records["review_id"].is_unique and records["review_body"].duplicated().any()
    assert 0 < (records["product_category"] == "").sum() <= 14


def test_splits_are_stratified_within_sampling_noise(unbalanced):
    records = unbalanced[1]
    for label, group in records.groupby("label_id"):
        share = (group["split_type"] == "validation").mean()
        assert abs(share - 0.05) < 4 * np.sqrt(0.05 * 0.95 / len(group)), label


def test_balanced_run_keeps_the_smallest_label_count_of_each(real_data, tiny_roberta, tmp_path, expected):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / real_data.name).symlink_to(real_data)
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta)
    smallest = min(expected["labels"].values())
    assert report["labels"]["after_balancing"] == {name: smallest for name in ID2LABEL.values()}
    assert report["rows"]["written"] == 3 * smallest == sum(len(t) for t in read_all(tmp_path / "out").values())
