"""The data-quality baseline dataset: training reviews -> the features Model Monitor watches.

SageMaker Processing runs it as `python ml_code/baseline.py` after the accuracy gate, with the
training job's model.tar.gz in --model-dir, the train split in --train-dir and Preprocess's
report folder in --report-dir. It loads the model with ml_code/inference.py's model_fn and
scores with its predict_fn, then turns each (text, answer) into a row with
ml_code/monitoring/record_preprocessor.py's features(): the rows Model Monitor later computes
from captured traffic, the same way. The pipeline's quality-check step turns the CSV into
statistics and constraints.

Sample: at most --max-records train reviews, chosen by a hash of their review id (the same
sample on every run, whatever the file order). Preprocess balances the classes; traffic is
not (this data set is ~78% positive). With --label-mix natural (default) the sample takes each
true class in its share before balancing (the report's labels.before_balancing), so the
predicted label mix of the baseline is what natural traffic should look like; --label-mix
split keeps the balanced mix.

Writes:
  --dataset-dir/baseline.csv    header + one row per review (columns: record_preprocessor.FEATURES);
                                alone in its folder because the analyzer reads every file there
  --reference-dir/reference.csv the monitoring reference of ml_code/monitor.py (Evidently): the
                                same rows with the review text first and the true class last
                                (columns: review_text, FEATURES..., label)
  --summary-dir/baseline_summary.json  sample, label shares, truncation, length quantiles
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import heapq
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.monitoring.record_preprocessor import FEATURES, features

LOG = logging.getLogger("ml_code.baseline")
DATASET_FILE = "baseline.csv"
REFERENCE_FILE = "reference.csv"
REFERENCE_COLUMNS = ("review_text", *FEATURES, "label")  # ml_code/monitor.py reads these
SUMMARY_FILE = "baseline_summary.json"
# 5,000 reviews put a quantile's rank error near 1%, far below the monitor's 0.1 drift
# threshold, and roberta-base scores them on a 4-vCPU processing instance in minutes.
DEFAULT_MAX_RECORDS = 5000
PROCESSING = Path("/opt/ml/processing")
COLUMNS = ("review_id", "review_body", "label_id")  # of the split files (ml_code/common/features.py)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)

    def path(name: str, default: Path, what: str) -> None:
        parser.add_argument(f"--{name}", type=Path, default=default, help=f"{what} (default: {default})")

    path("model-dir", PROCESSING / "model", "folder holding model.tar.gz, a model.tar.gz, or a model directory")
    path("train-dir", PROCESSING / "train", "train split folder (Parquet parts with review_id, review_body, label_id)")
    path("report-dir", PROCESSING / "report", "Preprocess's report folder (read for --label-mix natural)")
    path("dataset-dir", PROCESSING / "baseline" / "dataset", "where baseline.csv goes (nothing else is written there)")
    path("summary-dir", PROCESSING / "baseline" / "summary", "where baseline_summary.json goes")
    path("reference-dir", PROCESSING / "baseline" / "reference", "where reference.csv (text, features, label) goes")
    path("exit-message-file", Path("/opt/ml/output/message"), "SageMaker's failure reason file")
    parser.add_argument(
        "--max-records",
        type=int,
        default=DEFAULT_MAX_RECORDS,
        help=f"reviews in the baseline at most (default {DEFAULT_MAX_RECORDS})",
    )
    parser.add_argument(
        "--label-mix",
        choices=("natural", "split"),
        default="natural",
        help="true-class mix of the sample: as before balancing (default) or as in the split",
    )
    parser.add_argument("--chunk-size", type=int, default=256, help="texts per progress line (default 256)")
    args = parser.parse_args(argv)
    if args.max_records < 1 or args.chunk_size < 1:
        parser.error("--max-records and --chunk-size must be at least 1")
    return args


class BaselineError(ValueError):
    """The inputs cannot give a baseline; the message says which and why."""


def natural_shares(report_dir: Path) -> dict[str, float]:
    """Share of each class before balancing, summed over every instance's processing report."""
    counts: dict[str, int] = {}
    reports = sorted(Path(report_dir).glob("*.json"))
    for path in reports:
        labels = json.loads(path.read_text()).get("labels", {}).get("before_balancing", {})
        for label, count in labels.items():
            counts[label] = counts.get(label, 0) + int(count)
    total = sum(counts.values())
    if not total:
        raise BaselineError(f"no processing report with labels.before_balancing in {report_dir} (--label-mix natural)")
    return {label: count / total for label, count in counts.items()}


def quotas(available: dict[str, int], shares: dict[str, float], max_records: int) -> dict[str, int]:
    """Reviews to take per class: as many as the classes' shares allow, at most max_records in all."""
    present = {label: share for label, share in shares.items() if share > 0 and available.get(label, 0) > 0}
    if not present:
        raise BaselineError(f"the train split has no reviews of the classes {sorted(shares)}")
    scale = sum(present.values())
    total = min([max_records, *(int(available[label] / (share / scale)) for label, share in present.items())])
    return {label: int(total * share / scale) for label, share in present.items()}


def _rank(review_id: str) -> str:
    # Salted: independent of Preprocess's split hash, so the sample is not the split's edge.
    return hashlib.sha256(f"baseline:{review_id}".encode()).hexdigest()


def sample_reviews(train_dir: Path, max_records: int, shares: dict[str, float] | None) -> tuple[list[dict], int]:
    """(the sample as {"text", "label"} dicts in hash order, train rows read). Memory: max_records per class."""
    import pyarrow.parquet as pq

    from ml_code.common.labels import ID2LABEL
    from ml_code.training.data import part_files

    best: dict[str, list] = {}
    available: dict[str, int] = {}
    for path in part_files(train_dir):
        missing = set(COLUMNS) - set(pq.read_schema(path).names)
        if missing:
            raise BaselineError(f"{path} has no {', '.join(sorted(missing))} column (split-file contract)")
        table = pq.read_table(path, columns=list(COLUMNS))  # not input_ids: the handler tokenizes the text itself
        ids, texts, labels = (table.column(c).to_pylist() for c in COLUMNS)
        for review_id, text, label_id in zip(ids, texts, labels, strict=True):
            if not isinstance(text, str) or not text.strip():
                continue
            label = ID2LABEL[int(label_id)]
            available[label] = available.get(label, 0) + 1
            heap = best.setdefault(label, [])
            item = (_invert(_rank(str(review_id))), text)
            if len(heap) < max_records:
                heapq.heappush(heap, item)
            elif item > heap[0]:
                heapq.heapreplace(heap, item)
    rows_read = sum(available.values())
    if not rows_read:
        raise BaselineError(f"no review text in {train_dir}")
    take = quotas(available, shares or {label: count / rows_read for label, count in available.items()}, max_records)
    chosen = [
        (_invert(key), text, label) for label, count in take.items() for key, text in heapq.nlargest(count, best[label])
    ]
    return [{"text": text, "label": label} for _, text, label in sorted(chosen)], rows_read


def _invert(hex_digest: str) -> str:
    # A max-heap of the smallest ranks out of heapq's min-heap: complement every hex digit.
    return hex_digest.translate(str.maketrans("0123456789abcdef", "fedcba9876543210"))


def score(model_dir: Path, texts: list[str], chunk_size: int) -> tuple[list[dict], int]:
    """(record_preprocessor feature rows in text order, the model's max length) via inference.py."""
    from ml_code.inference import model_fn, predict_fn
    from ml_code.training.packaging import resolve_model_dir

    scratch_parent = model_dir if model_dir.is_dir() else model_dir.parent  # the job's volume, not /tmp
    with tempfile.TemporaryDirectory(prefix="unpacked-", dir=scratch_parent) as scratch:
        model = model_fn(str(resolve_model_dir(model_dir, Path(scratch))))
    # Longest last, chunk by chunk: each chunk pads little, and progress is visible.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows: list[dict] = [{}] * len(texts)
    started = time.monotonic()
    for start in range(0, len(order), chunk_size):
        indices = order[start : start + chunk_size]
        for index, answer in zip(indices, predict_fn([texts[i] for i in indices], model), strict=True):
            rows[index] = features(texts[index], answer)
        done = min(start + chunk_size, len(order))
        LOG.info("[baseline] scored %d/%d texts (%.1f texts/s)", done, len(order), done / (time.monotonic() - started))
    return rows, model.tokenizer.model_max_length


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"mean": round(sum(ordered) / len(ordered), 4), "p50": pick(0.5), "p95": pick(0.95), "max": ordered[-1]}


def summarize(rows: list[dict], sample: list[dict], rows_read: int, max_length: int, label_mix: str) -> dict:
    def shares(values: list[str]) -> dict[str, float]:
        return {v: round(values.count(v) / len(values), 6) for v in sorted(set(values))}

    return {
        "records": len(rows),
        "train_rows_read": rows_read,
        "label_mix": label_mix,
        "true_label_shares": shares([s["label"] for s in sample]),
        "predicted_label_shares": shares([r["predicted_label"] for r in rows]),
        "truncated_share": round(sum(r["truncated"] for r in rows) / len(rows), 6),
        "max_length": max_length,
        **{name: _quantiles([r[name] for r in rows]) for name in ("review_length", "token_count", "confidence")},
        "features": list(FEATURES),
    }


def write_outputs(rows: list[dict], summary: dict, dataset_dir: Path, summary_dir: Path) -> None:
    _write_csv(dataset_dir / DATASET_FILE, FEATURES, rows)
    summary_dir.mkdir(parents=True, exist_ok=True)
    (summary_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")


def write_reference(rows: list[dict], sample: list[dict], reference_dir: Path) -> None:
    """reference.csv: each baseline row with its review text and true class name."""
    _write_csv(
        reference_dir / REFERENCE_FILE,
        REFERENCE_COLUMNS,
        ({"review_text": s["text"], **row, "label": s["label"]} for row, s in zip(rows, sample, strict=True)),
    )


def _write_csv(path: Path, columns: tuple[str, ...], rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    LOG.info("effective configuration: %s", json.dumps({k: str(v) for k, v in vars(args).items()}, sort_keys=True))
    started = time.monotonic()
    try:
        shares = natural_shares(args.report_dir) if args.label_mix == "natural" else None
        sample, rows_read = sample_reviews(args.train_dir, args.max_records, shares)
        LOG.info("[baseline] sample: %d of %d train reviews, target class shares %s", len(sample), rows_read, shares)
        rows, max_length = score(args.model_dir, [s["text"] for s in sample], args.chunk_size)
    except (BaselineError, ValueError) as error:
        line = " ".join(str(error).split())
        if args.exit_message_file.parent.is_dir():
            args.exit_message_file.write_text(line[:1024], encoding="utf-8")
        raise SystemExit(f"baseline: {line}") from None
    summary = summarize(rows, sample, rows_read, max_length, args.label_mix)
    summary["seconds"] = round(time.monotonic() - started, 1)
    write_outputs(rows, summary, args.dataset_dir, args.summary_dir)
    write_reference(rows, sample, args.reference_dir)
    LOG.info(
        "[baseline] %d rows -> %s; predicted %s, truncated %.1f%%, %.1f s",
        len(rows),
        args.dataset_dir / DATASET_FILE,
        summary["predicted_label_shares"],
        100 * summary["truncated_share"],
        summary["seconds"],
    )


if __name__ == "__main__":
    main()
