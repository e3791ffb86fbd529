"""Validate and clean one chunk of rows; every rejected row is counted under one reason."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_code.common.labels import MAX_STARS, MIN_STARS
from ml_code.preprocessing.formats import CONTROL_BYTES
from ml_code.preprocessing.text import clean_text, is_plain

# In priority order: a row failing several checks is counted under the first.
REJECT_REASONS: tuple[str, ...] = (
    "malformed_row",  # wrong field count or broken quoting (counted by the reader)
    "invalid_utf8",  # bytes that are not UTF-8 inside the text
    "control_character",  # a NUL or other control character (formats.CONTROL_BYTES) in the text, id or category
    "empty_text",  # nothing left after cleaning
    "invalid_rating",  # not a whole number of stars within the label mapping's range
    "missing_id",  # the source has an id column but this row's id is empty
    "invalid_date",  # the source has a date column but this row's date does not parse
    "duplicate_id",  # a review id this instance already kept (dedup.SeenIds; the job counts these)
)
_CONTROL = re.compile(f"[{re.escape(CONTROL_BYTES.decode('ascii'))}]")


@dataclass(frozen=True)
class Validated:
    frame: pd.DataFrame  # valid rows: row, review_body, stars, category, and id / event_time when the source has them
    rejected: Counter[str]


def _strings(values: pd.Series) -> pd.Series:
    # Parquet sources may hold nulls and numbers where CSV sources hold strings.
    return values.fillna("").astype(str).str.strip()


def parse_stars(values: pd.Series) -> np.ndarray:
    """Whole-star ratings as int64, 0 where the value is not a valid rating."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    valid = (numbers == np.floor(numbers)) & (numbers >= MIN_STARS) & (numbers <= MAX_STARS)
    return np.where(valid, numbers, 0).astype(np.int64)


def parse_event_times(values: pd.Series) -> np.ndarray:
    """Unix seconds (float64), NaN where the date does not parse."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    seconds = parsed.astype("int64").to_numpy() / 1e9
    return np.where(parsed.isna().to_numpy(), np.nan, seconds)


def has_control(values: pd.Series) -> np.ndarray:
    """Per value: holds a control character that no review text, id or category should."""
    search = _CONTROL.search
    return np.fromiter((search(v) is not None for v in values), dtype=bool, count=len(values))


def validate(frame: pd.DataFrame) -> Validated:
    raw_text = frame["text"].fillna("").astype(str)
    # Plain texts (most) need no cleaning and hold no control character or U+FFFD.
    plain = np.fromiter(map(is_plain, raw_text), dtype=bool, count=len(raw_text))
    text = pd.Series(
        [t if p else clean_text(t) for t, p in zip(raw_text, plain, strict=True)], index=frame.index, dtype=object
    )
    stars = parse_stars(frame["rating"])
    control = np.zeros(len(frame), dtype=bool)
    control[~plain] = has_control(raw_text[~plain])
    for role in ("id", "category"):
        if role in frame:
            control |= has_control(frame[role].fillna("").astype(str))
    checks = {
        "invalid_utf8": raw_text.str.contains("\ufffd", regex=False).to_numpy(),
        "control_character": control,
        "empty_text": (text == "").to_numpy(),
        "invalid_rating": stars == 0,
    }
    valid = pd.DataFrame({"row": frame["row"], "review_body": text, "stars": stars}, index=frame.index)
    valid["product_category"] = _strings(frame["category"]) if "category" in frame else ""
    if "id" in frame:
        valid["review_id"] = _strings(frame["id"])
        checks["missing_id"] = (valid["review_id"] == "").to_numpy()
    if "date" in frame:
        valid["event_time"] = parse_event_times(frame["date"])
        checks["invalid_date"] = valid["event_time"].isna().to_numpy()
    rejected: Counter[str] = Counter()
    keep = np.ones(len(frame), dtype=bool)
    for reason in REJECT_REASONS:
        if reason in checks:
            failed = checks[reason] & keep
            rejected[reason] += int(failed.sum())
            keep &= ~failed
    return Validated(valid[keep].reset_index(drop=True), rejected)
