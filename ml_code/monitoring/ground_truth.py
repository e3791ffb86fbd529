"""Delayed ground truth: the true class of captured predictions, joined by inference id.

Format (what a labelling process writes under the ground-truth prefix): JSON Lines, one object
per line, in any file under the prefix whose name ends in .jsonl or .jsonl.gz (recursively;
other files are ignored):

    {"inference_id": "<the InferenceId the caller passed to InvokeEndpoint>", "label": "negative"}
    {"inference_id": "...", "star_rating": 1}          # 1-5, mapped by ml_code/common/labels.py
    {"inference_id": "...", "index": 2, "label": "positive"}

``label`` is a class name (negative, neutral, positive); ``star_rating`` a whole number of
stars. A request with one text joins by id alone; for a request with several texts, ``index``
(0-based, request order) names the text, and a label without it (or with an index past the
request's texts) is counted as ground_truth_ambiguous. Counted, never fatal:
ground_truth_malformed_lines (not a JSON object with a string inference_id),
ground_truth_unknown_label (no known label or star rating), ground_truth_unknown_id (labels
whose id no captured request of the ground-truth window carries). The same (id, index) twice:
the last line read wins.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from ml_code.common.labels import LABEL2ID, sentiment_for_stars
from ml_code.monitoring import storage

LOG = logging.getLogger("ml_code.monitoring.ground_truth")
SUFFIXES = (".jsonl", ".jsonl.gz")
Labels = dict[str, dict[int | None, str]]  # inference id -> {text index or None: class name}


def label_of(entry: dict) -> str:
    """The class name of a ground-truth entry; ValueError if it has none we know."""
    if "label" in entry:
        if entry["label"] in LABEL2ID:
            return entry["label"]
        raise ValueError(f"label {entry['label']!r} is none of {sorted(LABEL2ID)}")
    stars = entry.get("star_rating")
    if isinstance(stars, bool) or not isinstance(stars, int):
        raise ValueError(f"star_rating {stars!r} is not a whole number")
    return sentiment_for_stars(stars).name


def parse_line(line: str, labels: Labels, counts: Counter) -> None:
    if not line.strip():
        return
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        entry = None
    index = entry.get("index") if isinstance(entry, dict) else None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("inference_id"), str)
        or (index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0))
    ):
        counts["ground_truth_malformed_lines"] += 1
        return
    try:
        label = label_of(entry)
    except ValueError:
        counts["ground_truth_unknown_label"] += 1
        return
    counts["ground_truth_labels"] += 1
    labels.setdefault(entry["inference_id"], {})[index] = label


def read_labels(uri: str, counts: Counter) -> Labels:
    """Every label under the ground-truth prefix (a folder, an S3 prefix or one file)."""
    labels: Labels = {}
    for path in storage.files(uri):
        if not path.endswith(SUFFIXES):
            continue
        counts["ground_truth_files"] += 1
        for line in storage.lines(path):
            parse_line(line, labels, counts)
    LOG.info("[ground truth] %d labels for %d inference ids from %s", counts["ground_truth_labels"], len(labels), uri)
    return labels


def join(record: dict, labels: Labels, counts: Counter) -> list[tuple[int, str]]:
    """(text index, true class) for each label of this captured record; ambiguous ones counted."""
    entries = labels.get(record.get("inference_id") or "")
    if not entries:
        return []
    texts = len(record["texts"])
    joined = []
    for index, label in entries.items():
        position = 0 if index is None and texts == 1 else index
        if position is None or position >= texts:
            counts["ground_truth_ambiguous"] += 1
        else:
            joined.append((position, label))
    return joined


def unknown_ids(labels: Labels, matched: set[str]) -> int:
    """Labels whose inference id no captured record carried."""
    return sum(len(entries) for inference_id, entries in labels.items() if inference_id not in matched)
