"""The challenger comparison job: the champion and the challenger variant of the endpoint, side by
side on the window's live traffic (issue 14), from data capture, delayed ground truth and
CloudWatch's per-variant endpoint metrics.

SageMaker Processing runs it in containers/monitor's image as
`python3 /tmp/code/ml_code/compare.py ARGS` (infra/pipeline/compare_definition.py); locally the
same script reads folders instead of s3:// URIs.

  1. window: the --window-hours whole hour folders before --window-end's hour, of
     <capture>/<--champion-variant>/ and <capture>/<--challenger-variant>/, streamed
     (other variants' lines counted, not read)
  2. --mode shadow: challenger records paired with the champion requests they copy (by
     inference id, else by identical request body within the hour); agreement and confusion.
     --mode ab: disjoint traffic, no pairs (ml_code/monitoring/comparison.py)
  3. ground truth under --ground-truth-uri (format: ml_code/monitoring/ground_truth.py) joined by
     inference id: accuracy and macro F1 per variant (and on labelled shadow pairs)
  4. --cloudwatch true: invocations, 4XX/5XX error rate, ModelLatency p50/p99 per variant
  5. --recommend-margin: challenger, champion or undecided (--recommend-min-labelled labels each)
  6. --report-dir/<yyyy>/<mm>/<dd>/<hh>/ of the window end: comparison.json, comparison.md,
     metrics.json (CloudWatch MetricData), published with --publish-metrics true
  7. the window as one MLflow run: per-variant figures as metrics, the folder as artifacts
     (ml_code/monitoring/tracking.py; best effort, never fails the job)

A variant without traffic is reported (records 0, figures null). The job fails (exit 1, one line
in --exit-message-file) only when the capture has no variant folders, the window end is no
time, or every captured line of both variants is unusable.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.monitoring import capture, comparison, ground_truth, job_args, metrics
from ml_code.monitoring.capture import HOUR_FORMAT
from ml_code.monitoring.comparison import CHALLENGER, CHAMPION, ROLES, SHADOW
from ml_code.monitoring.job_args import NONE, add_capture_job_args, flag
from ml_code.monitoring.tracking import track_window

LOG = logging.getLogger("ml_code.compare")
STEP = "CompareVariants"  # the pipeline step (its PIPELINE_STEP_NAME wins): the MLflow run's name
# A day: an hour of a 10 % shadow share holds too few labelled requests to tell two models apart.
DEFAULT_WINDOW_HOURS = 24
DEFAULT_MIN_LABELLED = 200
GROUND_TRUTH_COUNTS = (
    "ground_truth_files",
    "ground_truth_labels",
    "ground_truth_malformed_lines",
    "ground_truth_unknown_label",
    "ground_truth_unknown_id",
    "ground_truth_ambiguous",
)


class CompareError(ValueError):
    """Nothing usable to compare; the message says why."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_job_args(parser, window_hours=DEFAULT_WINDOW_HOURS, endpoint_name=None)
    add = parser.add_argument
    add("--mode", choices=comparison.MODES, default=SHADOW, help="shadow (pairs) or ab (disjoint traffic)")
    add("--champion-variant", default="AllTraffic", help="(default AllTraffic)")
    add("--challenger-variant", default="Challenger", help="(default Challenger)")
    add("--recommend-margin", type=float, default=None, help="accuracy margin for recommending the challenger")
    add("--recommend-min-labelled", type=int, default=DEFAULT_MIN_LABELLED, help="labelled texts needed on each side")
    add("--cloudwatch", type=flag, default=False, help="true: error rate and latency from CloudWatch (default false)")
    args = parser.parse_args(argv)
    if args.window_hours < 1:
        parser.error("--window-hours must be at least 1")
    if args.champion_variant == args.challenger_variant:
        parser.error("--champion-variant and --challenger-variant must differ")
    if args.recommend_margin is not None and args.recommend_margin < 0:
        parser.error("--recommend-margin must not be negative")
    if args.recommend_min_labelled < 1:
        parser.error("--recommend-min-labelled must be at least 1")
    if args.endpoint_name is None:
        args.endpoint_name = str(args.capture_uri).rstrip("/").rsplit("/", 1)[-1]
    return args


def aws(service: str):
    """A boto3 client (tests replace this function)."""
    import boto3

    return boto3.client(service)


def read_cloudwatch(args: argparse.Namespace, variants: dict, start, end) -> tuple[dict, dict]:
    """({role: CloudWatch figures}, report's cloudwatch section). A failed call is reported, not fatal:
    the capture figures stand on their own."""
    empty = {role: dict.fromkeys(comparison.CLOUDWATCH_FIGURES) for role in ROLES}
    if not args.cloudwatch:
        return empty, {"enabled": False, "note": "--cloudwatch false: error rate and latency not read"}
    try:
        figures = comparison.cloudwatch_figures(aws("cloudwatch"), args.endpoint_name, variants, start, end)
    except Exception as error:  # botocore's ClientError, no credentials, no network: all the same here
        LOG.warning("[compare] CloudWatch figures unavailable: %s", error)
        return empty, {"enabled": True, "error": " ".join(str(error).split())}
    return figures, {
        "enabled": True,
        "namespace": "AWS/SageMaker",
        "period_seconds": int((end - start).total_seconds()),
    }


def status(tallies: dict) -> str:
    lines = sum(t.counts["lines"] for t in tallies.values())
    records = sum(t.counts["records"] for t in tallies.values())
    if lines and not records:
        return "failed"
    return "ok" if records else "no_traffic"


def write_outputs(folder: Path, report: dict, metric_data: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "comparison.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (folder / "comparison.md").write_text(comparison.markdown(report))
    (folder / "metrics.json").write_text(json.dumps(metric_data, indent=1) + "\n")


def fail(args: argparse.Namespace, error: Exception) -> NoReturn:
    job_args.fail("compare", args.exit_message_file, error)


def run(args: argparse.Namespace) -> dict:
    """The whole job; returns comparison.json's document. CompareError / CaptureLayoutError: nothing usable."""
    started = time.monotonic()
    end = capture.parse_time(args.window_end)
    hours = capture.hour_folders(end, args.window_hours)
    window_end = end.replace(minute=0, second=0, microsecond=0)
    window_start = window_end - timedelta(hours=args.window_hours)
    variants = {CHAMPION: args.champion_variant, CHALLENGER: args.challenger_variant}
    counts: Counter[str] = Counter()
    use_labels = args.ground_truth_uri.lower() != NONE
    labels = ground_truth.read_labels(args.ground_truth_uri, counts) if use_labels else {}
    pairing = comparison.ShadowPairing() if args.mode == SHADOW else None
    tallies, others, matched = comparison.scan(args.capture_uri, hours, variants, labels, counts, pairing)
    counts["ground_truth_unknown_id"] += ground_truth.unknown_ids(labels, matched)
    cloudwatch, cloudwatch_section = read_cloudwatch(args, variants, window_start, window_end)
    sides = {role: {"role": role, **tallies[role].figures(), "cloudwatch": cloudwatch[role]} for role in ROLES}
    report = {
        "status": status(tallies),
        "mode": args.mode,
        "endpoint": args.endpoint_name,
        "window": {"start": window_start.isoformat(), "end": window_end.isoformat(), "hours": hours},
        "variants": sides,
        "shadow": pairing.figures() if pairing is not None else None,
        "ground_truth": {"uri": args.ground_truth_uri, **{k: counts[k] for k in GROUND_TRUTH_COUNTS}}
        if use_labels
        else None,
        "cloudwatch": cloudwatch_section,
        "recommendation": None,
        "counts": {
            **{role: sides[role]["counts"] for role in ROLES},
            "other_variants": {name: dict(counter) for name, counter in others.items()},
            "ground_truth": {k: counts[k] for k in GROUND_TRUTH_COUNTS},
        },
        "configuration": {k: str(v) for k, v in vars(args).items()},
    }
    folder = args.report_dir / end.strftime(HOUR_FORMAT)
    if report["status"] == "failed":
        write_outputs(folder, report, {"Namespace": args.metrics_namespace, "MetricData": []})
        bad = ("lines", "malformed_lines", "unknown_content_type", "unreadable_records")
        found = "; ".join(f"{t.variant} " + ", ".join(f"{k} {t.counts[k]}" for k in bad) for t in tallies.values())
        raise CompareError(f"no captured line of either variant in {hours} under {args.capture_uri} is usable: {found}")
    if args.recommend_margin is not None:
        report["recommendation"] = comparison.recommend(
            sides[CHAMPION], sides[CHALLENGER], args.recommend_margin, args.recommend_min_labelled
        )
    report["seconds"] = round(time.monotonic() - started, 1)
    data = {"Namespace": args.metrics_namespace, "MetricData": comparison.metric_data(report, args.endpoint_name, end)}
    write_outputs(folder, report, data)
    if args.publish_metrics:
        calls = metrics.publish(aws("cloudwatch"), args.metrics_namespace, data["MetricData"])
        LOG.info("[compare] published %d metrics in %d calls", len(data["MetricData"]), calls)
    track_window(STEP, report, folder)
    LOG.info(
        "[compare] %s %s: records %s, agreement %s, recommended %s -> %s",
        args.mode,
        report["status"],
        {sides[role]["variant"]: sides[role]["records"] for role in ROLES},
        (report["shadow"] or {}).get("agreement"),
        (report["recommendation"] or {}).get("recommended"),
        folder,
    )
    return report


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    LOG.info("effective configuration: %s", json.dumps({k: str(v) for k, v in vars(args).items()}, sort_keys=True))
    try:
        run(args)
    except ValueError as error:  # CompareError, CaptureLayoutError, a bad --window-end
        fail(args, error)


if __name__ == "__main__":
    main()
