"""Helpers (no tests): capture lines with chosen predictions for ml_code/compare.py's tests, and a run of the job."""

from __future__ import annotations

import json
from pathlib import Path

from ml_code import compare
from tests.ml_code.capture_records import capture_line

END = "2026-12-02T03:00:12Z"
WINDOW = "2026/12/02/02"
REPORT = "2026/12/02/03"
LABELS = ("negative", "neutral", "positive")


def answer(label: str, score: float) -> dict:
    rest = (1 - score) / 2
    probabilities = {name: (score if name == label else rest) for name in LABELS}
    return {"label": label, "score": score, "probabilities": probabilities, "num_tokens": 9, "truncated": False}


def line(event_id: str, inference_id: str | None, texts: list[str], predicted: list[tuple[str, float]]) -> str:
    """A capture line of a request of ``texts`` whose answers are exactly ``predicted`` (label, score)."""
    body = json.dumps({"inputs": texts[0] if len(texts) == 1 else texts}).encode()
    response = json.dumps([answer(label, score) for label, score in predicted]).encode()
    record = json.loads(capture_line(event_id, body, "application/json", response, "application/json", "JSON"))
    if inference_id is not None:
        record["eventMetadata"]["inferenceId"] = inference_id
    return json.dumps(record)


def labels(folder: Path, entries: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "labels.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return folder


def run(tmp_path: Path, capture_uri: Path, *extra: str) -> tuple[dict, dict, str]:
    """compare.main on that capture; (comparison.json, metrics.json, comparison.md)."""
    compare.main(
        [
            "--capture-uri",
            str(capture_uri),
            "--window-end",
            END,
            "--window-hours",
            "1",
            "--report-dir",
            str(tmp_path / "report"),
            "--exit-message-file",
            str(tmp_path / "message"),
            *extra,
        ]
    )
    folder = tmp_path / "report" / REPORT
    return (
        json.loads((folder / "comparison.json").read_text()),
        json.loads((folder / "metrics.json").read_text()),
        (folder / "comparison.md").read_text(),
    )


def metric_values(data: dict) -> dict:
    """{(name, Variant): value}."""
    return {(d["MetricName"], d["Dimensions"][1]["Value"]): d["Value"] for d in data["MetricData"]}
