"""The one star-to-sentiment mapping (1-2 negative, 3 neutral, 4-5 positive)."""

from __future__ import annotations

import pytest

from ml_code.common.labels import ID2LABEL, LABEL2ID, SENTIMENTS, sentiment_for_stars


@pytest.mark.parametrize(
    ("stars", "name", "value", "label_id"),
    [
        (1, "negative", -1, 0),
        (2, "negative", -1, 0),
        (3, "neutral", 0, 1),
        (4, "positive", 1, 2),
        (5, "positive", 1, 2),
    ],
)
def test_stars_map_to_the_course_sentiments(stars, name, value, label_id):
    sentiment = sentiment_for_stars(stars)
    assert (sentiment.name, sentiment.value, sentiment.label_id) == (name, value, label_id)


@pytest.mark.parametrize("stars", [0, 6, -1])
def test_out_of_range_ratings_are_rejected(stars):
    with pytest.raises(ValueError, match="from 1 to 5"):
        sentiment_for_stars(stars)


def test_label_ids_are_dense_and_the_two_maps_invert_each_other():
    assert sorted(ID2LABEL) == list(range(len(SENTIMENTS)))
    assert {name: i for i, name in ID2LABEL.items()} == LABEL2ID
