"""The monitoring job: the endpoint's captured traffic of the last window against the served
model's reference, with Evidently (data drift, data quality, and model quality where ground truth
arrived). It replaces SageMaker Model Monitor, closed to new customers.

SageMaker Processing runs it hourly in containers/monitor's image as
`python3 /tmp/code/ml_code/monitor.py ARGS` (infra/pipeline/monitor_definition.py); locally the
same script reads folders instead of s3:// URIs.

  1. reference: --reference-uri (folder or reference.csv written by ml_code/baseline.py), or
     "served": resolved through --served-package-parameter (ml_code/monitoring/reference.py)
  2. window: the --window-hours whole hour folders before --window-end's hour, every variant,
     streamed and sampled to --max-records texts (ml_code/monitoring/capture.py)
  3. drift + data quality of the sample against the reference (ml_code/monitoring/drift.py)
  4. model quality: labels under --ground-truth-uri (format: ml_code/monitoring/ground_truth.py)
     joined by inference id with predictions of the --ground-truth-hours before --window-end
  5. --report-dir/<yyyy>/<mm>/<dd>/<hh>/ of the window end: report.html (drift, data quality),
     model_quality.html (when labels joined), report.json, metrics.json (CloudWatch MetricData,
     ml_code/monitoring/metrics.py), published with --publish-metrics true
  6. the window as one MLflow run: its figures as metrics, the folder as artifacts
     (ml_code/monitoring/tracking.py; best effort, never fails the job)

Bad lines and labels are counted in report.json's counts, never fatal. The job fails (exit 1,
one line in --exit-message-file) only when nothing usable remains: no readable reference, or a
window with captured lines of which none was usable. An empty window is a normal report with
RecordsAnalysed 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import NoReturn

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.monitoring import capture, drift, ground_truth, job_args, metrics, reference
from ml_code.monitoring.capture import HOUR_FORMAT, Reservoir
from ml_code.monitoring.job_args import NONE, add_capture_job_args
from ml_code.monitoring.tracking import track_window

LOG = logging.getLogger("ml_code.monitor")
STEP = "DriftMonitor"  # the pipeline step (its PIPELINE_STEP_NAME wins): the MLflow run's name
# 5,000 texts (as many as the reference, ml_code/baseline.py): a distance's sampling noise stays
# near 0.01-0.02, well under the 0.1 drift threshold, and the text domain classifier trains in
# seconds; memory stays a few hundred MB whatever the traffic.
DEFAULT_MAX_RECORDS = 5000
# Always in report.json's counts, 0 when nothing of the kind happened (capture.py, ground_truth.py).
COUNTS = (
    "variants",
    "files",
    "lines",
    "records",
    "texts",
    "malformed_lines",
    "unknown_content_type",
    "unreadable_records",
    "ground_truth_files",
    "ground_truth_labels",
    "ground_truth_malformed_lines",
    "ground_truth_unknown_label",
    "ground_truth_unknown_id",
    "ground_truth_ambiguous",
)


class MonitorError(ValueError):
    """Nothing usable to judge; the message says why."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_capture_job_args(parser, window_hours=1, endpoint_name="endpoint")
    add = parser.add_argument
    add("--reference-uri", required=True, help='reference folder or reference.csv (s3:// or local), or "served"')
    add("--served-package-parameter", default="", help='SSM parameter holding the served package ARN ("served")')
    add("--evaluation-uri", default=None, help="evaluation.json (optional; with served: the package's)")
    add("--ground-truth-hours", type=int, default=24, help="hours of predictions joined with labels (default 24)")
    add("--drift-threshold", type=float, default=0.1, help="numerical/categorical drift threshold (default 0.1)")
    add("--max-records", type=int, default=DEFAULT_MAX_RECORDS, help=f"texts sampled (default {DEFAULT_MAX_RECORDS})")
    add("--accuracy-margin", type=float, default=None, help="tolerated accuracy drop (informational in the report)")
    args = parser.parse_args(argv)
    if args.window_hours < 1 or args.ground_truth_hours < 1 or args.max_records < 1:
        parser.error("--window-hours, --ground-truth-hours and --max-records must be at least 1")
    if args.drift_threshold <= 0:
        parser.error("--drift-threshold must be positive")
    return args


def aws(service: str):
    """A boto3 client (tests replace this function)."""
    import boto3

    return boto3.client(service)


def resolve_reference(args: argparse.Namespace) -> dict:
    if args.reference_uri == reference.SERVED:
        source = reference.resolve_served(aws("ssm"), aws("sagemaker"), args.served_package_parameter)
        LOG.info("[monitor] served package %s: reference %s", source["model_package_arn"], source["reference_uri"])
        return {**source, "evaluation_uri": args.evaluation_uri or source["evaluation_uri"]}
    return {"model_package_arn": None, "reference_uri": args.reference_uri, "evaluation_uri": args.evaluation_uri}


def scan(args, window: list[str], label_hours: list[str], labels: dict, counts: Counter, outside: Counter):
    """(drift sample rows, labelled rows, inference ids matched): the window's texts sampled for
    drift; predictions of the ground-truth hours (the window's and those before it) joined."""
    drifting: Reservoir[dict] = Reservoir(args.max_records, seed=1)
    labelled: Reservoir[dict] = Reservoir(args.max_records, seed=2)
    matched: set[str] = set()
    label_set = set(label_hours)
    passes = [(window, counts, True)]
    if labels:
        passes.append(([h for h in label_hours if h not in window], outside, False))
    for hours, counter, in_window in passes:
        for record in capture.records(args.capture_uri, hours, counter):
            if in_window:
                for row in capture.rows(record):
                    drifting.add(row)
            if labels and record["hour"] in label_set:
                for index, label in ground_truth.join(record, labels, counts):
                    matched.add(record["inference_id"])
                    labelled.add({"predicted_label": record["rows"][index]["predicted_label"], "label": label})
        LOG.info("[monitor] %s hours %s: %s", "window" if in_window else "ground-truth", hours, dict(counter))
    return drifting.items, labelled.items, matched


def model_quality(labelled: list[dict], evaluation_accuracy: float | None, margin: float | None) -> dict:
    figures = drift.classification_metrics([r["label"] for r in labelled], [r["predicted_label"] for r in labelled])
    drop = None if evaluation_accuracy is None else evaluation_accuracy - figures["accuracy"]
    return {
        "labelled_records": len(labelled),
        **figures,
        "evaluation_accuracy": evaluation_accuracy,
        "accuracy_drop": drop,
        "accuracy_margin": margin,
        "accuracy_below_margin": None if drop is None or margin is None else drop > margin,
    }


def judge(args, reference_rows, sample: list[dict], labelled: list[dict], evaluation_accuracy) -> tuple[dict, dict]:
    """(report sections, {file name: Evidently snapshot}) of the sample and the labelled rows."""
    import pandas as pd

    sections: dict = {"records_analysed": len(sample), "drift": None, "model_quality": None}
    snapshots = {}
    if sample:
        snapshot, features, text_error = drift.drift_report(reference_rows, pd.DataFrame(sample), args.drift_threshold)
        drifted = sum(f["drifted"] for f in features.values())
        sections["drift"] = {
            "methods": {"numerical": drift.NUM_METHOD, "categorical": drift.CAT_METHOD, "text": drift.TEXT_METHOD},
            "features": features,
            "drifted_features": sorted(c for c, f in features.items() if f["drifted"]),
            "drifted_share": drifted / len(features),
            "text_drift_error": text_error,
        }
        snapshots["report.html"] = snapshot
    if labelled:
        sections["model_quality"] = model_quality(labelled, evaluation_accuracy, args.accuracy_margin)
        snapshots["model_quality.html"] = drift.quality_report(pd.DataFrame(labelled))
    return sections, snapshots


EMPTY_HTML = "<!doctype html><html><body><h1>No captured traffic</h1><p>{}</p></body></html>\n"


def write_outputs(folder: Path, report: dict, snapshots: dict, metric_data: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, snapshot in snapshots.items():
        snapshot.save_html(str(folder / name))
    if "report.html" not in snapshots:
        (folder / "report.html").write_text(EMPTY_HTML.format(f"{report['status']}: {report['window']}"))
    report["evidently"] = {name: snapshot.dict() for name, snapshot in snapshots.items()}
    (folder / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (folder / "metrics.json").write_text(json.dumps(metric_data, indent=1) + "\n")


def fail(args: argparse.Namespace, error: Exception) -> NoReturn:
    job_args.fail("monitor", args.exit_message_file, error)


def run(args: argparse.Namespace) -> dict:
    """The whole job; returns report.json's document. MonitorError/ReferenceError: nothing usable."""
    started = time.monotonic()
    end = capture.parse_time(args.window_end)
    window = capture.hour_folders(end, args.window_hours)
    use_labels = args.ground_truth_uri.lower() != NONE
    label_hours = capture.hour_folders(end, args.ground_truth_hours) if use_labels else []
    source = resolve_reference(args)
    reference_rows = reference.load(source["reference_uri"])
    LOG.info("[monitor] reference: %d rows from %s", len(reference_rows), source["reference_uri"])
    evaluation_accuracy = reference.evaluation_accuracy(source["evaluation_uri"])
    counts: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    labels = ground_truth.read_labels(args.ground_truth_uri, counts) if use_labels else {}
    sample, labelled, matched = scan(args, window, label_hours, labels, counts, outside)
    counts["ground_truth_unknown_id"] += ground_truth.unknown_ids(labels, matched)
    folder = args.report_dir / end.strftime(HOUR_FORMAT)
    report = {
        "status": "ok" if counts["lines"] else "empty_window",
        "endpoint": args.endpoint_name,
        "window": {"end": end.isoformat(), "hours": window, "ground_truth_hours": label_hours},
        "reference": {**source, "rows": len(reference_rows), "evaluation_accuracy": evaluation_accuracy},
        "configuration": {k: str(v) for k, v in vars(args).items()},
        "counts": {key: counts[key] for key in sorted({*COUNTS, *counts})},
        "ground_truth_scan": dict(outside),
        "records_analysed": 0,
    }
    if counts["lines"] and not counts["records"]:
        report["status"] = "failed"
        write_outputs(folder, report, {}, {"Namespace": args.metrics_namespace, "MetricData": []})
        raise MonitorError(
            f"none of the {counts['lines']} captured lines of {window} under {args.capture_uri} is usable: "
            + ", ".join(f"{k} {counts[k]}" for k in ("malformed_lines", "unknown_content_type", "unreadable_records"))
        )
    sections, snapshots = judge(args, reference_rows, sample, labelled, evaluation_accuracy)
    report.update(sections, seconds=round(time.monotonic() - started, 1))
    data = {"Namespace": args.metrics_namespace, "MetricData": metrics.metric_data(report, args.endpoint_name, end)}
    write_outputs(folder, report, snapshots, data)
    if args.publish_metrics:
        calls = metrics.publish(aws("cloudwatch"), args.metrics_namespace, data["MetricData"])
        LOG.info("[monitor] published %d metrics in %d calls", len(data["MetricData"]), calls)
    track_window(STEP, report, folder)
    LOG.info(
        "[monitor] %s: %d texts analysed, drifted %s, labelled %s -> %s",
        report["status"],
        report["records_analysed"],
        (report["drift"] or {}).get("drifted_features"),
        (report["model_quality"] or {}).get("labelled_records", 0),
        folder,
    )
    return report


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    LOG.info("effective configuration: %s", json.dumps({k: str(v) for k, v in vars(args).items()}, sort_keys=True))
    try:
        run(args)
    except (MonitorError, reference.ReferenceError, ValueError) as error:
        fail(args, error)


if __name__ == "__main__":
    main()
