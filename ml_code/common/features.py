"""The Feature Store record of one review, defined once.

The feature group in ``infra`` is built from ``FEATURES`` and the processing script writes
records with exactly these names and types, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Feature Store's scalar types. input_ids is kept as a JSON string rather than a List
# collection type, because collection types need the InMemory online tier and are not
# queryable as arrays in the Glue offline table anyway.
FeatureType = Literal["Integral", "Fractional", "String"]


@dataclass(frozen=True)
class Feature:
    name: str
    type: FeatureType
    description: str


RECORD_IDENTIFIER = "review_id"
EVENT_TIME = "event_time"

FEATURES: tuple[Feature, ...] = (
    Feature(RECORD_IDENTIFIER, "String", "Stable id: the source's review id, or a hash of file and row"),
    Feature(EVENT_TIME, "Fractional", "Unix seconds: the review date, or the ingestion time when the source has none"),
    Feature("sentiment", "Integral", "-1 negative, 0 neutral, +1 positive (ml_code.common.labels)"),
    Feature("label_id", "Integral", "Classifier output index 0/1/2 (ml_code.common.labels)"),
    Feature("input_ids", "String", "JSON list of RoBERTa token ids, unpadded, truncated to max_seq_length"),
    Feature("review_body", "String", "Cleaned review text the ids were computed from"),
    Feature("product_category", "String", "Product category (department for the clothing data set)"),
    Feature("split_type", "String", "train, validation or test"),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
