"""The processing report as an MLflow run (ml_code/tracking; best effort, never fails the job).

One run per instance: with several instances each reports its own files' counts, so each
logs its own run, named ``<step>/<host>`` and tagged with the host; one instance logs a run
named after the step.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ml_code.preprocessing.report import Report
from ml_code.tracking import TrackingContext, input_uris, start_step_run
from ml_code.tracking.flatten import flat_numbers

STEP = "Preprocess"
# Parameters, not metrics (the configuration), or not figures at all (file lists, errors).
_NOT_METRICS = ("configuration", "host", "hosts", "input_files", "skipped_files", "error")


def track_report(report: Report, report_path: Path) -> str:
    """Log ``report`` (configuration as parameters, every count and token-length percentile
    as a metric, the report file as an artifact); returns the run id (``"none"``: not tracked)."""
    context = TrackingContext.from_env(step=STEP)
    context = dataclasses.replace(context, host=report.host)
    if len(report.hosts) > 1:
        context = dataclasses.replace(context, step=f"{context.step}/{report.host}")
    document = report.to_dict()
    params = {**{f"config.{k}": v for k, v in document["configuration"].items()}, **input_uris()}
    params["instances"] = len(report.hosts)
    with start_step_run(STEP, context=context, params=params) as run:
        run.log_metrics(flat_numbers(document, skip=_NOT_METRICS))
        run.log_artifact(report_path)
        return run.run_id
