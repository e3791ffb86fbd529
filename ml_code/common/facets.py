"""Facets: the split-file columns bias is measured across, and the bias figures, defined once.

The course ran SageMaker Clarify for these; Clarify is closed to new customers, so the
figures are computed here, from counts and predictions, by both steps that report them:

- pre-training bias, in the processing report (``bias.pre_training``): per facet value, the
  rows per class, CI (class imbalance) and DPL (difference in positive proportions of
  labels), on the rows kept after validation and before balancing;
- post-training bias, in evaluation.json (``bias``): per facet value of the test split, the
  count, accuracy and per-class recall, and the largest accuracy gap between groups of at
  least ``MIN_GROUP_SIZE`` examples (``bias.max_accuracy_gap.value``, read by the gate).

Signs: every difference is "this facet value minus the rest of the data", so
``ci = (n_value - n_rest) / n`` (negative for a minority group) and ``dpl = q_value - q_rest``
(negative when the group has a smaller share of positive labels). Clarify calls the chosen
value facet d and the rest facet a and reports a - d: its CI and DPL are the negatives of ours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ml_code.common.features import FEATURE_NAMES
from ml_code.common.labels import ID2LABEL, SENTIMENTS

# Columns of the split files (and records) that name a group of reviews. product_category
# holds the department for the clothing data set and the product category for Amazon's.
FACET_COLUMNS: tuple[str, ...] = ("product_category",)
# Groups smaller than this are reported but left out of gaps: with 30 examples one review
# moves a group's accuracy by 3 points, so a smaller group's "gap" would mostly be noise.
MIN_GROUP_SIZE = 30
MISSING_VALUE = "(missing)"  # the group of rows whose facet is empty or whose files lack the column
OTHER_VALUE = "(other)"  # rows of values beyond MAX_VALUES, so counts stay bounded
MAX_VALUES = 1000  # distinct values counted per facet column and instance
POSITIVE_LABEL = next(s.name for s in SENTIMENTS if s.value > 0)  # DPL's "positive" outcome
MAX_ACCURACY_GAP_JSON_PATH = "bias.max_accuracy_gap.value"  # in evaluation.json; the pipeline's gate reads it
SIGN = "facet value minus the rest (Clarify reports the rest minus the value: its CI and DPL are the negatives)"

_unknown = sorted(set(FACET_COLUMNS) - set(FEATURE_NAMES))
if _unknown:
    raise ImportError(f"facet columns {_unknown} are not features of ml_code.common.features")


def facet_value(raw: object) -> str:
    """The group name of one row's facet value."""
    if raw is None:
        return MISSING_VALUE
    text = str(raw).strip()
    return text or MISSING_VALUE


class FacetCounts:
    """Rows per (facet value, label id) of one facet column: counts only, at most MAX_VALUES values
    (further values are counted under OTHER_VALUE), so memory does not grow with the data."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, int]] = Counter()
        self._values: set[str] = set()

    def add(self, values: Iterable[object], label_ids: Iterable[int]) -> None:
        for (value, label_id), n in Counter(zip(map(facet_value, values), label_ids, strict=True)).items():
            if value not in self._values:
                if len(self._values) >= MAX_VALUES:
                    value = OTHER_VALUE
                self._values.add(value)
            self.counts[value, int(label_id)] += n

    def by_value(self) -> dict[str, dict[str, int]]:
        """{value: {class name: rows}}, values sorted."""
        values = sorted({value for value, _ in self.counts})
        return {v: {name: int(self.counts[v, label_id]) for label_id, name in ID2LABEL.items()} for v in values}


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def pre_training_bias(counts: Mapping[str, Mapping[str, int]], min_group_size: int = MIN_GROUP_SIZE) -> dict:
    """Per facet value: rows, rows per class, CI and DPL of the value against the rest.

    ``counts`` is {value: {class name: rows}}; sums of several instances' counts give the
    figures of the whole data. DPL is None when the value or the rest has no rows.
    """
    total = sum(sum(labels.values()) for labels in counts.values())
    positives = sum(labels.get(POSITIVE_LABEL, 0) for labels in counts.values())
    figures = {}
    for value in sorted(counts):
        labels = {name: int(counts[value].get(name, 0)) for name in ID2LABEL.values()}
        rows, positive = sum(labels.values()), labels[POSITIVE_LABEL]
        rest, rest_positive = total - rows, positives - positive
        share, rest_share = _ratio(positive, rows), _ratio(rest_positive, rest)
        figures[value] = {
            "rows": rows,
            "labels": labels,
            "positive_share": share,
            "ci": _ratio(rows - rest, total),
            "dpl": round(share - rest_share, 6) if share is not None and rest_share is not None else None,
            "below_min_group_size": rows < min_group_size,
        }
    return figures


def pre_training_section(counts: Mapping[str, Mapping[str, Mapping[str, int]]], data: str) -> dict:
    """The report's ``bias.pre_training``: ``counts`` is {column: {value: {class name: rows}}}."""
    return {
        "data": data,
        "positive_label": POSITIVE_LABEL,
        "sign": SIGN,
        "min_group_size": MIN_GROUP_SIZE,
        "facets": {column: pre_training_bias(counts.get(column, {})) for column in FACET_COLUMNS},
    }


def merged_pre_training(reports: Iterable[Mapping[str, Any]]) -> dict:
    """``bias.pre_training`` of several instances' processing reports taken together.

    Each instance reports its own shard; CI and DPL do not add up, so they are recomputed
    from the summed counts (what one instance over every file would have reported).
    """
    totals: dict[str, dict[str, Counter[str]]] = {column: {} for column in FACET_COLUMNS}
    data = ""
    for report in reports:
        section = report.get("bias", {}).get("pre_training", {})
        data = data or section.get("data", "")
        for column, values in section.get("facets", {}).items():
            for value, figures in values.items():
                totals.setdefault(column, {}).setdefault(value, Counter()).update(figures["labels"])
    return pre_training_section(totals, data)


def _group_figures(y_true: np.ndarray, y_pred: np.ndarray, min_group_size: int) -> dict:
    recall = {}
    for label_id, name in ID2LABEL.items():
        actual = y_true == label_id
        recall[name] = round(float(np.mean(y_pred[actual] == label_id)), 6) if actual.any() else None
    return {
        "count": len(y_true),
        "accuracy": round(float(np.mean(y_true == y_pred)), 6),
        "recall": recall,
        "below_min_group_size": len(y_true) < min_group_size,
    }


def post_training_bias(
    facets: Mapping[str, Sequence[object]],
    y_true: Sequence[int],
    y_pred: Sequence[int],
    min_group_size: int = MIN_GROUP_SIZE,
) -> dict:
    """evaluation.json's ``bias``: per facet value, count, accuracy and per-class recall
    (None for a class the group has no example of), and the largest accuracy gap.

    ``facets`` is {column: one value per example}. ``max_accuracy_gap`` is always present:
    the highest minus the lowest accuracy among one column's groups of at least
    ``min_group_size`` examples, largest over the columns; 0.0 with no facet or groups
    when no column has two such groups.
    """
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    gap: dict[str, Any] = {"value": 0.0, "facet": None, "groups": [], "min_group_size": min_group_size}
    by_column = {}
    for column, raw in facets.items():
        values = np.asarray([facet_value(v) for v in raw], dtype=object)
        if len(values) != len(truth):
            raise ValueError(f"{column}: {len(values)} facet values for {len(truth)} examples")
        groups = {}
        for value in sorted(set(values.tolist())):
            member = values == value
            groups[value] = _group_figures(truth[member], predicted[member], min_group_size)
        by_column[column] = groups
        ranked = sorted((g["accuracy"], v) for v, g in groups.items() if not g["below_min_group_size"])
        if len(ranked) >= 2 and (gap["facet"] is None or ranked[-1][0] - ranked[0][0] > gap["value"]):
            (low, worst), (high, best) = ranked[0], ranked[-1]
            gap.update(value=round(high - low, 6), facet=column, groups=[best, worst])
    return {"min_group_size": min_group_size, "max_accuracy_gap": gap, "facets": by_column}
