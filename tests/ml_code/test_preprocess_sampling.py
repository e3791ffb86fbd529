"""Labels, split membership and balancing as deterministic functions of the record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_code.common.labels import SENTIMENTS, sentiment_for_stars
from ml_code.preprocessing import sampling
from ml_code.preprocessing.records import LABEL_ID_BY_STARS, SENTIMENT_BY_STARS, derive_ids, to_records
from ml_code.preprocessing.rows import parse_stars

IDS = [f"R{i:06d}" for i in range(60_000)]


@pytest.mark.parametrize("stars", [1, 2, 3, 4, 5])
def test_labels_come_from_the_one_label_mapping(stars):
    assert SENTIMENT_BY_STARS[stars] == sentiment_for_stars(stars).value
    assert LABEL_ID_BY_STARS[stars] == sentiment_for_stars(stars).label_id


def test_the_course_mapping_holds():
    assert [(s.value, s.label_id) for s in SENTIMENTS] == [(-1, 0), (0, 1), (1, 2)]
    assert [SENTIMENT_BY_STARS[s] for s in range(1, 6)] == [-1, -1, 0, 1, 1]


def test_only_whole_star_ratings_in_range_are_valid():
    values = pd.Series(["1", "5", "3.0", 4, 2.0, "0", "6", "4.5", "", "five", None, "-1"])
    assert parse_stars(values).tolist() == [1, 5, 3, 4, 2, 0, 0, 0, 0, 0, 0, 0]


def test_a_records_split_depends_on_its_id_alone():
    split_keys, _ = sampling.record_keys(IDS)
    alone = {i: s for i, s in zip(IDS, sampling.assign_splits(split_keys, (0.9, 0.05, 0.05)), strict=True)}
    subset = IDS[::7][::-1]  # other company, other order
    keys, _ = sampling.record_keys(subset)
    assert all(alone[i] == s for i, s in zip(subset, sampling.assign_splits(keys, (0.9, 0.05, 0.05)), strict=True))


def test_split_shares_match_the_fractions_within_sampling_noise():
    split_keys, _ = sampling.record_keys(IDS)
    shares = np.bincount(sampling.assign_splits(split_keys, (0.9, 0.05, 0.05)), minlength=3) / len(IDS)
    noise = 4 * np.sqrt(0.05 * 0.95 / len(IDS))  # 4 sigma of the smallest split's share
    assert np.all(np.abs(shares - [0.9, 0.05, 0.05]) < noise)


def test_degenerate_fractions_put_everything_where_asked():
    split_keys, _ = sampling.record_keys(IDS[:5000])
    assert set(sampling.assign_splits(split_keys, (1.0, 0.0, 0.0)).tolist()) == {0}
    assert set(sampling.assign_splits(split_keys, (0.5, 0.5, 0.0)).tolist()) == {0, 1}


def test_split_and_balance_keys_are_independent():
    split_keys, balance_keys = sampling.record_keys(IDS)
    in_train = sampling.assign_splits(split_keys, (0.9, 0.05, 0.05)) == 0
    lowest = balance_keys <= np.sort(balance_keys)[len(IDS) // 3]  # what balancing to a third keeps
    assert abs(in_train[lowest].mean() - 0.9) < 4 * np.sqrt(0.09 / lowest.sum())


def test_derived_ids_are_stable_and_distinct_per_file_and_row():
    assert derive_ids("a/r.csv", [0, 1]) == derive_ids("a/r.csv", [0, 1])
    assert len(set(derive_ids("a/r.csv", range(1000)) + derive_ids("b/r.csv", range(1000)))) == 2000


def test_records_take_the_source_id_and_date_when_there_are_some():
    valid = pd.DataFrame(
        {
            "row": [0],
            "review_body": ["x"],
            "stars": [4],
            "product_category": ["Shoes"],
            "review_id": ["R9"],
            "event_time": [1.5e9],
        }
    )
    record = to_records(valid, "f.tsv", 7.0, (0.9, 0.05, 0.05)).iloc[0]
    assert (record.review_id, record.event_time, record.sentiment, record.label_id) == ("R9", 1.5e9, 1, 2)
    derived = to_records(valid.drop(columns=["review_id", "event_time"]), "f.tsv", 7.0, (0.9, 0.05, 0.05)).iloc[0]
    assert (derived.review_id, derived.event_time) == (derive_ids("f.tsv", [0])[0], 7.0)


@pytest.mark.parametrize("k", [1, 7, 500, 9_999, 10_000])
@pytest.mark.parametrize("batch", [1, 333, 20_000])
def test_kth_smallest_of_a_stream_equals_sorting(k, batch):
    values = np.random.default_rng(k).integers(0, 2**63, 10_000, dtype=np.uint64)
    stream = (values[i : i + batch] for i in range(0, len(values), batch))
    assert sampling.kth_smallest(stream, k) == int(np.sort(values)[k - 1])


def test_kth_smallest_refuses_a_short_stream():
    with pytest.raises(ValueError, match="fewer than k"):
        sampling.kth_smallest(iter([np.arange(3, dtype=np.uint64)]), 4)


def test_quotas_downsample_to_the_smallest_present_label():
    assert sampling.quotas({0: 10, 1: 4, 2: 30}) == {0: 4, 1: 4, 2: 4}
    assert sampling.quotas({0: 10, 1: 0, 2: 30}) == {0: 10, 2: 10}  # an absent label is not a target
    assert sampling.quotas({}) == {}


def test_thresholds_keep_exactly_the_quota_of_lowest_keys_per_label():
    labels = np.random.default_rng(0).choice(3, size=20_000, p=[0.1, 0.2, 0.7])
    _, keys = sampling.record_keys(IDS[:20_000])
    counts = {label: int((labels == label).sum()) for label in range(3)}
    keep = sampling.quotas(counts)
    batches = lambda: ((labels[i : i + 3000], keys[i : i + 3000]) for i in range(0, 20_000, 3000))  # noqa: E731
    limits = sampling.thresholds(batches, counts, keep)
    kept = keys <= np.array([limits[label] for label in labels], dtype=np.uint64)
    assert np.bincount(labels[kept], minlength=3).tolist() == [counts[0]] * 3
    for label in (1, 2):  # the kept records are that label's lowest keys
        assert keys[kept & (labels == label)].max() < keys[~kept & (labels == label)].min()
