"""The command-line arguments the capture jobs share (ml_code/monitor.py, ml_code/compare.py).

Both read a window of the endpoint's data capture and delayed ground truth, write dated
reports, and may publish CloudWatch metrics; the same names mean the same things in both.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

PROCESSING = Path("/opt/ml/processing")
NONE = "none"
DEFAULT_NAMESPACE = "roberta-sentiment/Monitoring"


def flag(value: str) -> bool:
    """``true`` / ``false``, as pipeline parameters pass booleans."""
    if value.lower() not in ("true", "false"):
        raise argparse.ArgumentTypeError(f"{value!r} is not true or false")
    return value.lower() == "true"


def add_capture_job_args(parser: argparse.ArgumentParser, *, window_hours: int, endpoint_name: str | None) -> None:
    """The window, ground truth, reports, metrics and failure arguments; ``window_hours`` and
    ``endpoint_name`` are the job's own defaults."""
    add = parser.add_argument
    add("--capture-uri", required=True, help="the endpoint's capture prefix (s3://bucket/prefix/<endpoint> or folder)")
    add("--window-end", default=None, help="ISO 8601 UTC end of the window (default: now)")
    add("--window-hours", type=int, default=window_hours, help=f"whole hours in the window (default {window_hours})")
    add("--ground-truth-uri", default=NONE, help='ground-truth prefix (s3:// or folder), or "none" (default)')
    add("--report-dir", type=Path, default=PROCESSING / "report", help="(default: /opt/ml/processing/report)")
    add("--endpoint-name", default=endpoint_name, help=f"metric dimension Endpoint (default: {endpoint_name})")
    add("--metrics-namespace", default=DEFAULT_NAMESPACE, help=f"(default {DEFAULT_NAMESPACE})")
    add("--publish-metrics", type=flag, default=False, help="true: put the metrics to CloudWatch (default false)")
    add("--exit-message-file", type=Path, default=Path("/opt/ml/output/message"), help="SageMaker's failure reason")


def fail(job: str, exit_message_file: Path, error: Exception) -> NoReturn:
    """Stop the job with one line: printed, and written as SageMaker's ExitMessage (1 KB at most)."""
    line = " ".join(str(error).split())
    print(f"{job}: {line}", flush=True)
    if exit_message_file.parent.is_dir():
        exit_message_file.write_text(line[:1024], encoding="utf-8")
    raise SystemExit(f"{job}: {line}")
