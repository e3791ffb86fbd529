"""The feature schema is valid for Feature Store: unique names, required ids, scalar types."""

from __future__ import annotations

import re

from ml_code.common.features import EVENT_TIME, FEATURE_NAMES, FEATURES, RECORD_IDENTIFIER


def test_names_are_unique_and_feature_store_compatible():
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    # Feature Store: alphanumeric and '_' or '-', starting with a letter; no reserved offline-store names.
    assert all(re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_-]{0,63}", name) for name in FEATURE_NAMES)
    assert not {"is_deleted", "write_time", "api_invocation_time"} & set(FEATURE_NAMES)


def test_record_identifier_and_event_time_have_the_types_feature_store_requires():
    types = {f.name: f.type for f in FEATURES}
    assert types[RECORD_IDENTIFIER] in ("String", "Integral")
    assert types[EVENT_TIME] in ("String", "Fractional")
    assert set(types.values()) <= {"Integral", "Fractional", "String"}


def test_label_features_are_integral():
    types = {f.name: f.type for f in FEATURES}
    assert types["label_id"] == types["sentiment"] == "Integral"
