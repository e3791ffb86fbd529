"""Helpers for the preprocessing tests: write small inputs, run the job, read its outputs."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ml_code.common.splits import PART_FILE_PATTERN, REPORT_DIR, SPLITS
from ml_code.preprocess import main

AMAZON_HEADER = [
    "marketplace",
    "customer_id",
    "review_id",
    "product_id",
    "product_parent",
    "product_title",
    "product_category",
    "star_rating",
    "helpful_votes",
    "total_votes",
    "vine",
    "verified_purchase",
    "review_headline",
    "review_body",
    "review_date",
]


def write_csv(path: Path, header: list[str], rows: list[list[object]], delimiter: str = ",") -> Path:
    """A CSV (or TSV) written with standard quoting; gzip when the name ends in .gz."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def amazon_row(review_id: str, body: str, stars: object, date: str = "2015-08-31", category: str = "Apparel") -> list:
    return ["US", "1", review_id, "P1", "2", "A title", category, stars, "0", "0", "N", "Y", "headline", body, date]


def run_job(input_dir: Path, output_dir: Path, tokenizer: Path, *extra: str, host: str = "algo-1") -> dict:
    """Run the entry point in-process (as SageMaker would run the script) and return ``host``'s report."""
    main(
        [
            "--input-dir",
            str(input_dir),
            "--output-dir",
            str(output_dir),
            "--tokenizer",
            str(tokenizer),
            "--resource-config",
            str(output_dir / "no-resourceconfig.json"),
            "--exit-message-file",
            str(output_dir / "no-such-folder" / "message"),
            "--event-time",
            "1700000000",
            *extra,
        ]
    )
    return read_report(output_dir, host)


def read_report(output_dir: Path, host: str = "algo-1") -> dict:
    return json.loads((output_dir / REPORT_DIR / f"processing_report-{host}.json").read_text())


def read_split(output_dir: Path, split: str) -> pa.Table:
    parts = sorted((output_dir / split).glob(PART_FILE_PATTERN))
    return pa.concat_tables([pq.read_table(p) for p in parts])


def read_all(output_dir: Path) -> dict[str, pa.Table]:
    return {split: read_split(output_dir, split) for split in SPLITS}
