"""The processing report: every row accounted for, per instance.

``rows.read == rows.kept + rows.rejected`` and ``rows.kept == rows.written +
rows.dropped_by_balancing``. Label counts are keyed by the sentiment names of
``ml_code.common.labels``.

``bias.pre_training`` holds the pre-training bias figures of ``ml_code.common.facets`` per
facet column and value: rows per class, CI and DPL of the value against the rest, on the
rows kept (after validation) before balancing, of every split. Like every figure here they
describe this instance's files only; the per-class counts add up over instances, CI and
DPL do not (``facets.merged_pre_training`` recomputes them from the summed counts).

``skipped_files`` lists every file below the input folder that was not processed (or not
to the end), each with the reason: not a data file by its name, or unreadable and
quarantined (``--quarantine-unreadable``; when it broke mid-way, ``rows_read`` of it, the
whole chunks before the break, were read and kept or rejected as usual). ``duplicates``
says how many rows were dropped as ``duplicate_id`` and within what scope (see ``dedup``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml_code.common.facets import FACET_COLUMNS, FacetCounts, pre_training_section
from ml_code.common.labels import ID2LABEL
from ml_code.common.splits import SPLITS
from ml_code.preprocessing.feature_store import IngestStats
from ml_code.preprocessing.rows import REJECT_REASONS

PERCENTILES = (50, 90, 95, 99)


def histogram_percentiles(histogram: np.ndarray, percentiles: tuple[int, ...] = PERCENTILES) -> dict[str, int]:
    """Nearest-rank percentiles of the values counted in ``histogram`` (index = value)."""
    total = int(histogram.sum())
    if total == 0:
        return {}
    cumulative = np.cumsum(histogram)
    return {f"p{p}": int(np.searchsorted(cumulative, math.ceil(p / 100 * total))) for p in percentiles}


def _by_label(counts: Counter[int]) -> dict[str, int]:
    return {name: int(counts[label_id]) for label_id, name in ID2LABEL.items()}


@dataclass
class Report:
    host: str
    hosts: list[str]
    configuration: dict[str, Any]
    max_seq_length: int
    input_files: list[dict[str, Any]] = field(default_factory=list)
    skipped_files: list[dict[str, Any]] = field(default_factory=list)
    duplicate_scope: str = ""  # what the duplicate_id count covers
    rows_read: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    labels_before: Counter[int] = field(default_factory=Counter)
    facets_before: dict[str, FacetCounts] = field(default_factory=lambda: {c: FacetCounts() for c in FACET_COLUMNS})
    labels_after: Counter[int] = field(default_factory=Counter)
    splits: dict[str, Counter[int]] = field(default_factory=lambda: {s: Counter() for s in SPLITS})
    balance_target: int | None = None  # rows kept per label when balancing
    truncated: int = 0
    feature_store: IngestStats | None = None
    duration_seconds: float = 0.0
    error: str | None = None  # why the job failed, when it did
    token_lengths: np.ndarray = field(init=False)  # histogram: index = length in tokens

    def __post_init__(self) -> None:
        self.token_lengths = np.zeros(self.max_seq_length + 1, dtype=np.int64)

    def skip(self, path: str, reason: str, quarantined: bool = False, rows_read: int = 0) -> None:
        self.skipped_files.append({"path": path, "reason": reason, "quarantined": quarantined, "rows_read": rows_read})

    @property
    def rows_kept(self) -> int:
        return sum(self.labels_before.values())

    @property
    def rows_written(self) -> int:
        return sum(self.labels_after.values())

    def add_kept(self, records: pd.DataFrame) -> None:
        """Count valid records (label_id and facet columns) before any balancing."""
        label_ids = records["label_id"].tolist()
        self.labels_before.update(label_ids)
        for column, counts in self.facets_before.items():
            counts.add(records[column].tolist(), label_ids)

    def add_written(
        self, split_types: list[str], label_ids: np.ndarray, lengths: np.ndarray, truncated: np.ndarray
    ) -> None:
        self.labels_after.update(label_ids.tolist())
        for split, label_id in zip(split_types, label_ids.tolist(), strict=True):
            self.splits[split][label_id] += 1
        self.token_lengths += np.bincount(lengths, minlength=len(self.token_lengths))
        self.truncated += int(truncated.sum())

    def to_dict(self) -> dict[str, Any]:
        written = self.rows_written
        lengths = self.token_lengths
        return {
            "host": self.host,
            "hosts": self.hosts,
            "configuration": self.configuration,
            "input_files": self.input_files,
            "skipped_files": self.skipped_files,
            "rows": {
                "read": self.rows_read,
                "kept": self.rows_kept,
                "rejected": sum(self.rejected.values()),
                "dropped_by_balancing": self.rows_kept - written,
                "written": written,
            },
            "rejected_by_reason": {reason: int(self.rejected[reason]) for reason in REJECT_REASONS},
            "duplicates": {"rows": int(self.rejected["duplicate_id"]), "scope": self.duplicate_scope},
            "labels": {
                "before_balancing": _by_label(self.labels_before),
                "after_balancing": _by_label(self.labels_after),
            },
            "balancing": {"enabled": self.configuration.get("balance"), "rows_per_label": self.balance_target},
            "splits": {s: {"rows": sum(c.values()), "labels": _by_label(c)} for s, c in self.splits.items()},
            "tokens": {
                "max_seq_length": self.max_seq_length,
                "length_percentiles": histogram_percentiles(lengths),
                "min": int(np.flatnonzero(lengths)[0]) if written else None,
                "max": int(np.flatnonzero(lengths)[-1]) if written else None,
                "mean": round(float(np.arange(len(lengths)) @ lengths / written), 2) if written else None,
                "truncated_share": round(self.truncated / written, 6) if written else 0.0,
            },
            "bias": {
                "pre_training": pre_training_section(
                    {column: counts.by_value() for column, counts in self.facets_before.items()},
                    "rows kept after validation, before balancing, all splits, this instance's files",
                )
            },
            "feature_store": (self.feature_store or IngestStats()).as_json(),
            "duration_seconds": round(self.duration_seconds, 3),
            "error": self.error,
        }

    def summary(self) -> str:
        """One line for the log."""
        data = self.to_dict()
        rows, tokens, store = data["rows"], data["tokens"], data["feature_store"]
        splits = ", ".join(f"{name} {split['rows']}" for name, split in data["splits"].items())
        return (
            f"read {rows['read']}, kept {rows['kept']}, rejected {rows['rejected']}, dropped by balancing"
            f" {rows['dropped_by_balancing']}, written {rows['written']} ({splits});"
            f" tokens {tokens['length_percentiles']}, truncated {tokens['truncated_share']:.1%};"
            f" feature store put {store['put']} failed {store['failed']}; {data['duration_seconds']:.1f} s"
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
