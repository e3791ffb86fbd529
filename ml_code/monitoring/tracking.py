"""A monitoring or comparison window as an MLflow run (ml_code/tracking; best effort).

One run per job execution, i.e. per window: tagged with the endpoint, the window's end and
the verdict, every figure of the report document as a metric (drift per feature, data
quality, model quality when labels arrived; per variant for a comparison), the job's
arguments as parameters and the window's report folder as artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml_code.tracking import input_uris, start_step_run
from ml_code.tracking.flatten import flat_numbers

# Arguments are logged as parameters; the window's hour list is in its tags.
_NOT_METRICS = ("configuration", "window")


def track_window(step: str, report: dict[str, Any], folder: Path) -> str:
    """Returns the run id (``"none"``: not tracked)."""
    window = report.get("window") or {}
    params = {f"config.{k}": v for k, v in (report.get("configuration") or {}).items()}
    with start_step_run(step, params={**params, **input_uris()}) as run:
        run.set_tags(
            {
                "endpoint": report.get("endpoint"),
                "window.end": window.get("end"),
                "window.hours": ",".join(window.get("hours") or []),
                "status": report.get("status"),
            }
        )
        run.log_metrics(flat_numbers(report, skip=_NOT_METRICS))
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            run.log_artifact(path)
        return run.run_id
