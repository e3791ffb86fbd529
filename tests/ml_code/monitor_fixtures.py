"""Captured traffic and references for ml_code/monitor.py's tests and benchmark, without a model.

``fake_answer`` stands in for the handler: probabilities leaning to the review's true class with
a per-text wobble, so about one prediction in five is wrong and the predicted mix follows the
star ratings (a window of 1-star reviews predicts mostly negative). Token counts follow the text
length, so cutting texts moves them. Capture lines come from tests/ml_code/capture_records.py's
``capture_line``, with the caller's InferenceId added as SageMaker records it.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from ml_code.common.labels import sentiment_for_stars
from ml_code.monitoring.record_preprocessor import FEATURES, LABELS, features

JSON = "application/json"
LEAN = {"negative": (0.7, 0.2, 0.1), "neutral": (0.25, 0.5, 0.25), "positive": (0.1, 0.2, 0.7)}


def fake_answer(text: str, stars: int) -> dict:
    wobble = [int(hashlib.sha256(f"{i}:{text}".encode()).hexdigest()[:8], 16) / 2**32 for i in range(3)]
    raw = [base + 0.45 * w for base, w in zip(LEAN[sentiment_for_stars(stars).name], wobble, strict=False)]
    probabilities = {label: value / sum(raw) for label, value in zip(LABELS, raw, strict=False)}
    label = max(probabilities, key=probabilities.__getitem__)
    tokens = len(text) // 4 + 2
    return {
        "label": label,
        "score": probabilities[label],
        "probabilities": probabilities,
        "num_tokens": tokens,
        "truncated": tokens > 128,
    }


def reviews(path: Path) -> list[tuple[str, int]]:
    """(text, stars) of the real data set's reviews that have a text, in file order."""
    import pandas as pd

    frame = pd.read_csv(path, index_col=0)
    frame = frame[frame["Review Text"].notna()]
    return list(zip(frame["Review Text"].astype(str), frame["Rating"].astype(int), strict=False))


def write_reference(folder: Path, items: list[tuple[str, int]]) -> Path:
    """reference.csv as ml_code/baseline.py writes it, with fake answers for the features."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "reference.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["review_text", *FEATURES, "label"], lineterminator="\n")
        writer.writeheader()
        for text, stars in items:
            row = features(text, fake_answer(text, stars))
            writer.writerow({"review_text": text, **row, "label": sentiment_for_stars(stars).name})
    return folder


def line(event_id: str, texts: list[str], stars: list[int], inference_id: str | None = None, **kind) -> str:
    """One capture line: {"inputs": texts} (one text: a string) and the fake answers."""
    from tests.ml_code.capture_records import capture_line

    body = json.dumps({"inputs": texts[0] if len(texts) == 1 else texts}).encode()
    response = json.dumps([fake_answer(t, s) for t, s in zip(texts, stars, strict=True)]).encode()
    content_type = kind.get("content_type", JSON)
    record = json.loads(capture_line(event_id, body, content_type, response, JSON, kind.get("encoding", "JSON")))
    if inference_id is not None:
        record["eventMetadata"]["inferenceId"] = inference_id
    return json.dumps(record, ensure_ascii=False)


def write_capture(capture_uri: Path, hour: str, lines: list[str], variant: str = "AllTraffic", name: str = "a") -> Path:
    """<capture>/<variant>/<yyyy/mm/dd/hh>/<name>.jsonl, as SageMaker lays capture files out."""
    folder = capture_uri / variant / hour
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    path.write_text("".join(f"{text}\n" for text in lines), encoding="utf-8")
    return path
