"""Valid rows -> feature records: review id, event time, labels, split, balance key."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml_code.common.labels import MAX_STARS, MIN_STARS, sentiment_for_stars
from ml_code.common.splits import SPLITS
from ml_code.preprocessing.sampling import assign_splits, record_keys

# Lookup tables indexed by stars, built from the one label mapping in the code base.
_STARS = range(MIN_STARS, MAX_STARS + 1)
SENTIMENT_BY_STARS = np.zeros(MAX_STARS + 1, dtype=np.int64)
LABEL_ID_BY_STARS = np.zeros(MAX_STARS + 1, dtype=np.int64)
for _stars in _STARS:
    SENTIMENT_BY_STARS[_stars] = sentiment_for_stars(_stars).value
    LABEL_ID_BY_STARS[_stars] = sentiment_for_stars(_stars).label_id


def derive_ids(relative_path: str, rows: Sequence[int]) -> list[str]:
    """Stable ids for sources without one: the file's path below the input folder and the
    record's index in it, the same whether one instance or a shard reads the file."""
    prefix = f"{relative_path}\n"
    return [hashlib.blake2b(f"{prefix}{row}".encode(), digest_size=10).hexdigest() for row in rows]


def to_records(valid: pd.DataFrame, relative_path: str, event_time: float, fractions: Sequence[float]) -> pd.DataFrame:
    """The spill record of every valid row: feature columns (but input_ids) + balance_key."""
    ids = valid["review_id"].tolist() if "review_id" in valid else derive_ids(relative_path, valid["row"].tolist())
    split_keys, balance_keys = record_keys(ids)
    stars = valid["stars"].to_numpy()
    return pd.DataFrame(
        {
            "review_id": ids,
            "event_time": valid["event_time"].to_numpy() if "event_time" in valid else np.full(len(valid), event_time),
            "sentiment": SENTIMENT_BY_STARS[stars],
            "label_id": LABEL_ID_BY_STARS[stars],
            "review_body": valid["review_body"].to_numpy(),
            "product_category": valid["product_category"].to_numpy(),
            "split_type": np.asarray(SPLITS, dtype=object)[assign_splits(split_keys, fractions)],
            "balance_key": balance_keys,
        }
    )
