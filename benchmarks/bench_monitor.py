"""make bench-monitor: the Evidently monitoring job (ml_code/monitor.py) on N and 10N captured records.

From the real data set: a fixed reference of --reference-size reviews (reference.csv as
ml_code/baseline.py writes it) and, from the other reviews (cycled when N exceeds them), N and
10N one-review requests written as SageMaker capture files (1,000 lines each, two variants,
one hour folder). The answers are tests/ml_code/monitor_fixtures.py's fake ones: the job's
cost does not depend on the model. Each run is the whole job in a fresh interpreter
(imports, listing, streamed parsing, reservoir sampling to --max-records, Evidently drift and
data quality, report files), timed wall-clock, with its own peak RSS (VmHWM). By default N is
the job's own default --max-records (what a deployed job samples to): the 10N run reads ten
times the lines into the same sample size, so its memory should stay flat.
The last line is ``records_per_s=<at 10N> rss_ratio=<peak RSS 10N / N>``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
from pathlib import Path

from benchmarks.child_rss import run_module
from ml_code.monitor import DEFAULT_MAX_RECORDS

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = ROOT.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"
END, HOUR = "2026-12-02T03:00:12Z", "2026/12/02/02"
LINES_PER_FILE = 1000
TARGETS = {"rss_ratio": 1.5}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REAL_DATA, help=f"review CSV (default {REAL_DATA})")
    parser.add_argument(
        "--records",
        type=int,
        default=DEFAULT_MAX_RECORDS,
        help=f"N: captured records of the small run (default {DEFAULT_MAX_RECORDS}, the job's sample size)",
    )
    parser.add_argument(
        "--max-records",
        type=int,
        default=DEFAULT_MAX_RECORDS,
        help=f"the job's --max-records (default: its own, {DEFAULT_MAX_RECORDS})",
    )
    parser.add_argument("--reference-size", type=int, default=2000, help="reference rows (default 2000)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"{args.data} not found: the benchmark needs the real data set (../shared/data)")
    if args.records < 1 or args.reference_size < 1:
        parser.error("--records and --reference-size must be at least 1")
    return args


def write_capture(folder: Path, items: list[tuple[str, int]], count: int) -> Path:
    """``count`` one-text capture lines cycling through ``items``, in files of LINES_PER_FILE."""
    from tests.ml_code.monitor_fixtures import line, write_capture

    picks = (items[i % len(items)] for i in range(count))
    lines = (line(f"e{i}", [text], [stars], inference_id=f"i{i}") for i, (text, stars) in enumerate(picks))
    for number, start in enumerate(range(0, count, LINES_PER_FILE)):
        chunk = [next(lines) for _ in range(min(LINES_PER_FILE, count - start))]
        write_capture(folder, HOUR, chunk, variant=("Blue", "Green")[number % 2], name=f"part-{number:05d}")
    return folder


def run_job(capture: Path, reference: Path, report: Path, max_records: int) -> tuple[float, float, dict]:
    """(wall seconds, peak RSS MB, report.json) of one whole job in a fresh interpreter."""
    argv = [
        "--capture-uri",
        str(capture),
        "--window-end",
        END,
        "--reference-uri",
        str(reference),
        "--report-dir",
        str(report),
        "--max-records",
        str(max_records),
        "--exit-message-file",
        str(report / "message"),
    ]
    peak_mb, seconds, _ = run_module("ml_code.monitor", argv, cwd=ROOT)
    return seconds, peak_mb, json.loads((report / "2026/12/02/03" / "report.json").read_text())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from tests.ml_code.monitor_fixtures import reviews, write_reference

    items = reviews(args.data)
    random.Random(11).shuffle(items)
    reference_items, traffic = items[: args.reference_size], items[args.reference_size :]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        work = Path(tmp)
        reference = write_reference(work / "reference", reference_items)
        print(
            f"data: {args.data.name}; reference {len(reference_items)} rows; --max-records {args.max_records};"
            f" cpus {os.cpu_count()}",
            flush=True,
        )
        for scale in (1, 10):
            records = args.records * scale
            capture = write_capture(work / f"capture-{scale}" / "endpoint", traffic, records)
            seconds, rss, report = run_job(capture, reference, work / f"report-{scale}", args.max_records)
            results[scale] = (records / seconds, rss)
            print(
                f"{records:>7} records: {seconds:6.1f} s whole process ({report['seconds']:.1f} s in the job),"
                f" {records / seconds:7.0f} records/s, peak RSS {rss:6.0f} MB, {report['records_analysed']} texts"
                f" analysed, drifted {report['drift']['drifted_features']}",
                flush=True,
            )
    rss_ratio = results[10][1] / results[1][1]
    met = "met" if rss_ratio <= TARGETS["rss_ratio"] else "MISSED"
    print(f"targets: rss_ratio <= {TARGETS['rss_ratio']} {met}")
    print(f"records_per_s={results[10][0]:.0f} rss_ratio={rss_ratio:.2f}")


if __name__ == "__main__":
    main()
