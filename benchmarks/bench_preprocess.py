"""make bench-preprocess: the processing script against the course's tokenization and the floor.

First, the default (balanced) job as whole processes, interpreter start and imports
included: ``python -m ml_code.preprocess`` with its defaults against the course's way
(``--course-job`` below: pandas ``read_csv``, balance first with ``groupby().sample``,
the slow ``RobertaTokenizer.encode_plus`` row by row, padded, written as TSV, as the
course's prepare-data lab does it) on the real data x``--job-replicas`` (default 5). Both
write the same number of rows (checked); the median of ``--job-repeats`` runs each,
interleaved, gives ``job_ratio=<course seconds / ours>``.

Then, on the real data set replicated N times (N links to ../shared/data's file in one input
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
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.child_rss import run_module

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = ROOT.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"
SAMPLE_DATA = ROOT / "data" / "sample" / "womens_clothing_reviews_sample.csv.gz"
TARGETS = {"ratio": 6.0, "floor_ratio": 1.5, "rss_growth": 2.0, "job_ratio": 5.0}


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
    parser.add_argument("--job-replicas", type=int, default=5, help="copies for the whole-process default job (5)")
    parser.add_argument("--job-repeats", type=int, default=3, help="whole-process runs of each, median kept (3)")
    parser.add_argument("--job-only", action="store_true", help="only the whole-process default-job comparison")
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


def course_job(argv: list[str]) -> None:
    """The course's prepare-data step as one process: ``--course-job IN OUT TOKENIZER MAX_LEN``.

    Its imports are inside: a whole-process timing pays for them, as the course's script does."""
    input_dir, output_dir, tokenizer_dir, max_seq_length = Path(argv[0]), Path(argv[1]), argv[2], int(argv[3])
    import pandas as pd
    from sklearn.model_selection import train_test_split
    from transformers import RobertaTokenizer

    from ml_code.common.labels import sentiment_for_stars

    tokenizer = RobertaTokenizer.from_pretrained(tokenizer_dir)
    frames = [pd.read_csv(path, index_col=0) for path in sorted(input_dir.iterdir())]
    df = pd.concat(frames, ignore_index=True).rename(
        columns={"Review Text": "review_body", "Rating": "star_rating", "Department Name": "product_category"}
    )[["review_body", "star_rating", "product_category"]]
    df = df.dropna(subset=["review_body"]).reset_index(drop=True)
    df["sentiment"] = df["star_rating"].apply(lambda stars: sentiment_for_stars(int(stars)).value)
    grouped = df.groupby("sentiment")
    smallest = grouped.size().min()
    balanced = grouped.sample(n=smallest, random_state=42).reset_index(drop=True)
    balanced["input_ids"] = balanced["review_body"].apply(
        lambda review: tokenizer.encode_plus(review, max_length=max_seq_length, padding="max_length", truncation=True)[
            "input_ids"
        ]
    )
    balanced["label_id"] = balanced["sentiment"].apply(lambda s: s + 1)
    balanced["review_id"] = range(len(balanced))
    train, holdout = train_test_split(balanced, test_size=0.1, stratify=balanced["sentiment"], random_state=42)
    validation, test = train_test_split(holdout, test_size=0.5, stratify=holdout["sentiment"], random_state=42)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, split in (("train", train), ("validation", validation), ("test", test)):
        split.to_csv(output_dir / f"{name}.tsv", sep="\t", index=False)
    print("ROWS_WRITTEN", len(balanced))


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def default_job_comparison(args: argparse.Namespace, work: Path) -> float:
    """Whole-process seconds of our default job and of the course's way; returns course / ours."""
    import json

    data = replicate(args.data, args.job_replicas, work / f"job-x{args.job_replicas}")
    ours: list[float] = []
    course: list[float] = []
    cpu: dict[str, list[float]] = {"ours": [], "course": []}
    rows = {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cpus", flush=True)
    for repeat in range(args.job_repeats):  # interleaved, so drifting machine load hits both alike
        out = work / f"job-ours-{repeat}"
        before = _children_cpu()
        ours.append(run_module("ml_code.preprocess", script_args(data, out, args), cwd=ROOT)[1])
        cpu["ours"].append(_children_cpu() - before)
        report = json.loads(next((out / "report").glob("*.json")).read_text())
        rows["ours"] = report["rows"]["written"]
        argv = ["--course-job", str(data), str(work / f"job-course-{repeat}"), str(args.tokenizer)]
        before = _children_cpu()
        seconds, result = run_module("benchmarks.bench_preprocess", [*argv, str(args.max_seq_length)], cwd=ROOT)[1:]
        cpu["course"].append(_children_cpu() - before)
        course.append(seconds)
        rows["course"] = int(result.stdout.split("ROWS_WRITTEN")[-1].split()[0])
    if rows["ours"] != rows["course"]:
        raise SystemExit(f"the default job and the course's way wrote different row counts: {rows}")
    n = rows["ours"]
    print(f"default (balanced) job, whole processes, {args.data.name} x{args.job_replicas}: {n} rows written by each")
    print(line("    ml_code/preprocess.py, default settings", ours, n), flush=True)
    print(line("    course: read_csv, balance, encode_plus per row, TSV", course, n), flush=True)
    print(
        f"    CPU seconds (user+sys), median: ours {statistics.median(cpu['ours']):.2f},"
        f" course {statistics.median(cpu['course']):.2f} (ours uses every core: under load from other"
        " processes its wall time grows more than the single-threaded course's)",
        flush=True,
    )
    job_ratio = statistics.median(course) / statistics.median(ours)
    verdict = "met" if job_ratio >= TARGETS["job_ratio"] else "MISSED"
    print(f"job_ratio={job_ratio:.2f} (course seconds / ours; target >= {TARGETS['job_ratio']}: {verdict})", flush=True)
    return job_ratio


def floor_approach(texts: list[str], tokenizer_dir: Path, max_seq_length: int, method: str) -> Callable[[], object]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_seq_length)
    return lambda: getattr(tokenizer, method)(texts)


def line(label: str, seconds: list[float], rows: int) -> str:
    median = statistics.median(seconds)
    return f"{label:<58} {median:7.2f} s {rows / median:9.0f} rows/s   runs: {', '.join(f'{s:.2f}' for s in seconds)}"


def main(argv: list[str] | None = None) -> None:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["--course-job"]:
        course_job(raw[1:])
        return
    args = parse_args(argv)
    args.tokenizer = ensure_tokenizer(args.tokenizer)
    with tempfile.TemporaryDirectory(prefix="bench-preprocess-job-") as tmp:
        job_ratio = default_job_comparison(args, Path(tmp))
    if args.job_only:
        return
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
    print(f"ratio={ratio:.2f} floor_ratio={floor_ratio:.2f} job_ratio={job_ratio:.2f}")


if __name__ == "__main__":
    main()
