"""One MLflow run per pipeline step; every call is best effort.

The first failure (client missing, service unreachable, request refused) logs one warning
and turns the run into a no-op for the rest of the job: tracking never fails a job.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ml_code.tracking.client import mlflow_client, short_error, sqlite_database
from ml_code.tracking.context import NOT_TRACKED, TrackingContext
from ml_code.tracking.names import (
    CODE_VERSION_TAG,
    EXECUTION_ID_TAG,
    HOST_TAG,
    PIPELINE_TAG,
    STEP_TAG,
    TRACKING_URI_ENV,
)

LOG = logging.getLogger("ml_code.tracking")
# MLflow accepts letters, digits, _ - . space / in metric, param and tag keys.
_KEY_CHARACTERS = re.compile(r"[^A-Za-z0-9_\-. /]")
_MAX_PARAM_LENGTH = 6000
_BATCH_METRICS = 1000  # log_batch limits
_BATCH_PARAMS = 100


def _key(name: str) -> str:
    return _KEY_CHARACTERS.sub("_", str(name))[:250]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and not math.isnan(float(value)):
        return float(value)
    return None


class StepRun:
    """A step's run; ``run_id`` is ``NOT_TRACKED`` when nothing is logged."""

    def __init__(self, context: TrackingContext, client: Any = None, run_id: str = NOT_TRACKED) -> None:
        self.context = context
        self._client = client
        self._run_id = run_id

    @property
    def active(self) -> bool:
        return self._client is not None

    @property
    def run_id(self) -> str:
        """The run's id once created, even after a later call failed or the run ended."""
        return self._run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        if not self.active:
            return
        from mlflow.entities import Param

        entries = [Param(_key(k), str(v)[:_MAX_PARAM_LENGTH]) for k, v in params.items() if v is not None]
        for chunk in _chunks(entries, _BATCH_PARAMS):
            self._log_batch("log params", params=chunk)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Numeric values only (others are left out); ``step``: the x-axis of a curve."""
        if not self.active:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entries = [
            Metric(_key(k), number, now, step or 0) for k, v in metrics.items() if (number := _number(v)) is not None
        ]
        for chunk in _chunks(entries, _BATCH_METRICS):
            self._log_batch("log metrics", metrics=chunk)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if not self.active:
            return
        from mlflow.entities import RunTag

        entries = [RunTag(_key(k), str(v)) for k, v in tags.items() if v is not None]
        self._log_batch("set tags", tags=entries)

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        if path.exists():
            self._call(f"log {path.name}", lambda client: client.log_artifact(self._run_id, str(path), artifact_path))

    def end(self, failed: bool = False) -> None:
        status = "FAILED" if failed else "FINISHED"
        self._call("end the run", lambda client: client.set_terminated(self._run_id, status))
        self._client = None

    def __enter__(self) -> StepRun:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.end(failed=kind is not None)

    def _log_batch(self, what: str, **entries: Any) -> None:
        self._call(what, lambda client: client.log_batch(self._run_id, **entries))

    def _call(self, what: str, action: Callable[[Any], Any]) -> None:
        if self._client is None:
            return
        try:
            action(self._client)
        except Exception as error:
            self._client = None
            _warn(self.context, f"could not {what}: {short_error(error)}")


def start_step_run(
    step: str,
    *,
    primary: bool = True,
    context: TrackingContext | None = None,
    params: Mapping[str, Any] | None = None,
) -> StepRun:
    """A new run named after ``step`` in the pipeline's experiment, tagged with the execution.

    ``primary``: False on the other workers of a distributed job (only one logs).
    """
    context = context or TrackingContext.from_env(step=step)
    if not primary:
        return StepRun(context)
    if not context.enabled:
        LOG.info("MLflow tracking off: no tracking URI (%s) given", TRACKING_URI_ENV)
        return StepRun(context)
    try:
        client = mlflow_client(context.uri)
        experiment_id = _experiment_id(client, context)
        run = client.create_run(experiment_id, run_name=context.step or step, tags=_run_tags(context))
    except Exception as error:
        _warn(context, short_error(error))
        return StepRun(context)
    LOG.info("MLflow run %s in experiment %r (%s)", run.info.run_id, context.experiment, context.uri)
    step_run = StepRun(context, client, run.info.run_id)
    if params:
        step_run.log_params(params)
    return step_run


def tag_runs(run_ids: Iterable[str], tags: Mapping[str, str], context: TrackingContext | None = None) -> list[str]:
    """Set ``tags`` on existing runs (``NOT_TRACKED`` ids skipped); returns the ids tagged."""
    context = context or TrackingContext.from_env()
    wanted = [run_id for run_id in run_ids if run_id and run_id != NOT_TRACKED]
    if not wanted or not context.enabled:
        LOG.info("MLflow tracking: no run to tag (%s)", "no tracking URI" if wanted else "runs were not tracked")
        return []
    try:
        client = mlflow_client(context.uri)
        for run_id in wanted:
            for key, value in tags.items():
                client.set_tag(run_id, key, value)
    except Exception as error:
        _warn(context, short_error(error))
        return []
    return wanted


def _experiment_id(client: Any, context: TrackingContext) -> str:
    experiment = client.get_experiment_by_name(context.experiment)
    if experiment is not None:
        return str(experiment.experiment_id)
    try:
        return str(client.create_experiment(context.experiment, artifact_location=artifact_location(context.uri)))
    except Exception:
        # Another step of the same pipeline created it meanwhile.
        experiment = client.get_experiment_by_name(context.experiment)
        if experiment is None:
            raise
        return str(experiment.experiment_id)


def artifact_location(uri: str) -> str | None:
    """Beside a local SQLite store, artifacts go to ``mlartifacts/`` next to the database file
    (MLflow's default is relative to each process's working folder); the managed service
    chooses its own (the models bucket)."""
    database = sqlite_database(uri)
    return None if database is None else (database.resolve().parent / "mlartifacts").as_uri()


def _run_tags(context: TrackingContext) -> dict[str, str]:
    tags = {
        STEP_TAG: context.step,
        PIPELINE_TAG: context.experiment,
        EXECUTION_ID_TAG: context.execution_id,
        CODE_VERSION_TAG: context.code_version,
        HOST_TAG: context.host,
    }
    return {key: value for key, value in tags.items() if value}


def _warn(context: TrackingContext, reason: str) -> None:
    LOG.warning("MLflow tracking is off for the rest of this job (%s at %s); the job carries on", reason, context.uri)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
