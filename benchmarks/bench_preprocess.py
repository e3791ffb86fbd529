"""make bench-preprocess: the processing script against the course's tokenization and the floor.

On the real data set replicated N times (N links to ../shared/data's file in one input
folder: the derived review ids stay distinct), in one process:
  (a) end to end: ``ml_code.preprocess.main`` with --no-balance, so it tokenizes every
      valid text: the same texts as (b) and (c) (balancing would drop two thirds);
  (b) the course: the slow ``RobertaTokenizer.encode_plus`` row by row through
      ``DataFrame.apply``, padded to max length;
  (c) the floor: raw ``tokenizers`` ``encode_batch`` (truncation on) on the same texts.
Timings exclude interpreter start and imports (done first) and include all the script
does. Peak RSS of the script at 1x and Nx is measured in fresh subprocesses. The last line
is ``ratio=<(a) speed / (b) speed> floor_ratio=<(a) time / (c) time>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.child_rss import run_module

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = ROOT.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"
SAMPLE_DATA = ROOT / "data" / "sample" / "womens_clothing_reviews_sample.csv.gz"
TARGETS = {"ratio": 6.0, "floor_ratio": 1.5, "rss_growth": 2.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REAL_DATA, help=f"review CSV (default {REAL_DATA})")
    parser.add_argument("--replicas", type=int, default=10, help="copies of the data set (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of (a) and (c), median kept (default 3)")
    parser.add_argument("--course-repeats", type=int, default=1, help="runs of (b), the slow one (default 1)")
    parser.add_argument(
        "--tokenizer",
        type=Path,
        default=ROOT / "build" / "tiny-roberta",
        help="tokenizer folder, built from the sample data if absent (default build/tiny-roberta)",
    )
    parser.add_argument("--max-seq-length", type=int, default=128, help="as the script's default (128)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"{args.data} not found: the benchmark needs the real data set (../shared/data)")
    return args


def ensure_tokenizer(path: Path) -> Path:
    if not (path / "tokenizer.json").exists():
        from tools.tiny_roberta import build_tokenizer, review_texts

        build_tokenizer(review_texts([SAMPLE_DATA]), path)
    return path


def replicate(data: Path, replicas: int, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i in range(replicas):
        (folder / f"reviews-{i:02d}{''.join(data.suffixes)}").symlink_to(data.resolve())
    return folder


def timed(runs: int, work: Callable[[], object]) -> list[float]:
    """Wall seconds of each of ``runs`` calls."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - started)
    return seconds


def script_args(input_dir: Path, output_dir: Path, args: argparse.Namespace, *extra: str) -> list[str]:
    return [
        "--input-dir",
        str(input_dir),
        "--output-dir",
        str(output_dir),
        "--tokenizer",
        str(args.tokenizer),
        "--max-seq-length",
        str(args.max_seq_length),
        "--resource-config",
        str(output_dir / "none.json"),
        "--log-level",
        "WARNING",
        *extra,
    ]


def peak_rss_mb(argv: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of the script in a fresh interpreter."""
    peak_mb, seconds, _ = run_module("ml_code.preprocess", argv, cwd=ROOT)
    return peak_mb, seconds


def output_texts(output_dir: Path) -> list[str]:
    import pyarrow.parquet as pq

    return [
        t
        for part in sorted(output_dir.glob("*/part-*.parquet"))
        for t in pq.read_table(part)["review_body"].to_pylist()
    ]


def course_approach(texts: list[str], tokenizer_dir: Path, max_seq_length: int) -> Callable[[], object]:
    import pandas as pd
    from transformers import RobertaTokenizer

    tokenizer = RobertaTokenizer.from_pretrained(str(tokenizer_dir))
    frame = pd.DataFrame({"review_body": texts})

    def run():  # as the course's prepare-data lab does it
        return frame["review_body"].apply(
            lambda review: tokenizer.encode_plus(
                review, max_length=max_seq_length, padding="max_length", truncation=True
            )["input_ids"]
        )

    return run


def floor_approach(texts: list[str], tokenizer_dir: Path, max_seq_length: int, method: str) -> Callable[[], object]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_seq_length)
    return lambda: getattr(tokenizer, method)(texts)


def line(label: str, seconds: list[float], rows: int) -> str:
    median = statistics.median(seconds)
    return f"{label:<58} {median:7.2f} s {rows / median:9.0f} rows/s   runs: {', '.join(f'{s:.2f}' for s in seconds)}"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.tokenizer = ensure_tokenizer(args.tokenizer)
    import transformers  # noqa: F401  (imported first: none of the timings below pays for it)

    from ml_code.preprocess import main as preprocess

    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as tmp:
        work = Path(tmp)
        one, many = replicate(args.data, 1, work / "x1"), replicate(args.data, args.replicas, work / "xN")
        out = work / "out"
        run_script = lambda: preprocess(script_args(many, out, args, "--no-balance"))  # noqa: E731
        run_script()  # warm-up, and the texts (b) and (c) are measured on
        texts = output_texts(out)
        n = len(texts)
        print(
            f"data: {args.data.name} x{args.replicas}: {n} texts tokenized; tokenizer {args.tokenizer};"
            f" cpus {os.cpu_count()}",
            flush=True,
        )
        floor = floor_approach(texts, args.tokenizer, args.max_seq_length, "encode_batch")
        fast = floor_approach(texts, args.tokenizer, args.max_seq_length, "encode_batch_fast")
        timings: dict[str, list[float]] = {"a": [], "c": [], "fast": []}
        for _ in range(args.repeats):  # interleaved, so drifting machine load hits all alike
            for key, work_once in (("a", run_script), ("c", floor), ("fast", fast)):
                timings[key] += timed(1, work_once)
        print(line("(a) end to end, ml_code/preprocess.py --no-balance", timings["a"], n), flush=True)
        print(line("(c) floor: tokenizers encode_batch", timings["c"], n), flush=True)
        print(line("    (tokenizers encode_batch_fast, no offsets)", timings["fast"], n), flush=True)
        course = timed(args.course_repeats, course_approach(texts, args.tokenizer, args.max_seq_length))
        print(line("(b) course: RobertaTokenizer.encode_plus via apply, padded", course, n), flush=True)
        for mode, extra in (("default", ()), ("no-balance", ("--no-balance",))):
            small, t1 = peak_rss_mb(script_args(one, work / f"rss-1-{mode}", args, *extra))
            large, tn = peak_rss_mb(script_args(many, work / f"rss-n-{mode}", args, *extra))
            print(
                f"peak RSS, {mode:<10} settings: 1x {small:6.0f} MB ({t1:.1f} s), {args.replicas}x {large:6.0f} MB"
                f" ({tn:.1f} s): {large / small:.2f}x (target <= {TARGETS['rss_growth']}x)",
                flush=True,
            )

    ratio = statistics.median(course) / statistics.median(timings["a"])
    floor_ratio = statistics.median(timings["a"]) / statistics.median(timings["c"])
    print(
        f"targets: ratio >= {TARGETS['ratio']} {'met' if ratio >= TARGETS['ratio'] else 'MISSED'}, floor_ratio <="
        f" {TARGETS['floor_ratio']} {'met' if floor_ratio <= TARGETS['floor_ratio'] else 'MISSED'}"
    )
    print(f"ratio={ratio:.2f} floor_ratio={floor_ratio:.2f}")


if __name__ == "__main__":
    main()
