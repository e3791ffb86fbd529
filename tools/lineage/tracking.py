"""What MLflow says about a model package: the runs of the pipeline execution that trained it.

From the training run (the package's MlflowRunId) to the other runs of the same execution
(tag pipeline.execution_id in the run's experiment): data (``data.<input>`` params), code
(tag code.version), parameters, metric curves (final value, step, range) and health.
Every failure is caught and described: the caller still has the registry's facts.
"""

from __future__ import annotations

from typing import Any

from ml_code.tracking.client import mlflow_client, short_error, sqlite_database
from ml_code.tracking.context import NOT_TRACKED
from ml_code.tracking.names import (
    CODE_VERSION_TAG,
    EXECUTION_ID_TAG,
    HEALTH_TAG,
    MODEL_ARTIFACT_TAG,
    MODEL_PACKAGE_TAG,
    STEP_TAG,
    TRAINING_RUN_TAG,
)

DATA_PREFIX = "data."
BEST_VALIDATION = "best_validation_accuracy"  # ml_code/train.py's summary metric
EVALUATION_STEP = "Evaluate"
MAX_RUNS = 200
# Tracking states.
OK_STATE = "ok"
NOT_TRACKED_STATE = "not tracked"
NO_URI_STATE = "no tracking URI"
UNREACHABLE_STATE = "unreachable"
RUN_NOT_FOUND_STATE = "run not found"


def read_tracking(run_id: str | None, uri: str | None, package_arn: str) -> dict[str, Any]:
    """``{"state", "uri", "run_id", "message"}`` plus, when the run was read (state "ok"),
    runs, data, code, parameters, metrics, health and link."""
    facts: dict[str, Any] = {"state": OK_STATE, "uri": uri or None, "run_id": run_id or None, "message": ""}
    if run_id == NOT_TRACKED:
        return {**facts, "state": NOT_TRACKED_STATE, "message": "tracking was off for this package (MlflowRunId none)"}
    if not uri or uri == NOT_TRACKED:
        return {**facts, "state": NO_URI_STATE, "message": "the package records no tracking URI: pass --tracking-uri"}
    database = sqlite_database(uri)
    if database is not None and not database.is_file():
        # MLflow would create an empty store there; say the store is missing instead.
        return {**facts, "state": UNREACHABLE_STATE, "message": f"no SQLite tracking store at {database}"}
    try:
        client = mlflow_client(uri)
        training = client.get_run(run_id) if run_id else linked_training_run(client, package_arn)
    except Exception as error:
        if getattr(error, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            return {**facts, "state": RUN_NOT_FOUND_STATE, "message": f"no run {run_id} in the store"}
        return {**facts, "state": UNREACHABLE_STATE, "message": short_error(error)}
    if training is None:
        message = f"the package records no MlflowRunId and no run is tagged {MODEL_PACKAGE_TAG}={package_arn}"
        return {**facts, "state": RUN_NOT_FOUND_STATE, "message": message}
    run_id = training.info.run_id
    try:
        runs = [summarize(client, run) for run in execution_runs(client, training, package_arn)]
    except Exception as error:
        return {
            **facts,
            "state": UNREACHABLE_STATE,
            "message": f"read the run, then failed: {short_error(error)}",
        }
    return {**facts, "run_id": run_id, **combine(runs, run_id, package_arn)}


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def linked_training_run(client: Any, package_arn: str) -> Any:
    """For a package that records no run id: the run LinkRun tagged with its ARN that is no
    evaluation run (those also carry training_run_id); None when there is none."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments or not package_arn:
        return None
    found = client.search_runs(
        experiments, filter_string=f"tags.`{MODEL_PACKAGE_TAG}` = {_quoted(package_arn)}", max_results=MAX_RUNS
    )
    training = [run for run in found if TRAINING_RUN_TAG not in run.data.tags]
    return min(training, key=lambda run: run.info.start_time or 0) if training else None


def execution_runs(client: Any, training: Any, package_arn: str) -> list[Any]:
    """The training run and the runs of its experiment that share its pipeline execution or
    are linked to it (tag training_run_id, or model_package_arn = this package), oldest first."""
    filters = [f"tags.`{TRAINING_RUN_TAG}` = {_quoted(training.info.run_id)}"]
    execution = training.data.tags.get(EXECUTION_ID_TAG)
    if execution:
        filters.append(f"tags.`{EXECUTION_ID_TAG}` = {_quoted(execution)}")
    if package_arn:
        filters.append(f"tags.`{MODEL_PACKAGE_TAG}` = {_quoted(package_arn)}")
    runs = {training.info.run_id: training}
    for filter_string in filters:  # MLflow's search has no OR
        for run in client.search_runs([training.info.experiment_id], filter_string=filter_string, max_results=MAX_RUNS):
            runs.setdefault(run.info.run_id, run)
    return sorted(runs.values(), key=lambda run: (run.info.start_time or 0, run.info.run_id))


def metric_summary(history: list[Any]) -> dict[str, Any]:
    points = sorted(history, key=lambda m: (m.step, m.timestamp))
    values = [m.value for m in points]
    last = points[-1]
    summary: dict[str, Any] = {"final": last.value, "step": last.step, "points": len(points)}
    if len(points) > 1:
        summary.update(min=min(values), max=max(values))
    return summary


def summarize(client: Any, run: Any) -> dict[str, Any]:
    tags, params = run.data.tags, run.data.params
    run_id = run.info.run_id
    return {
        "step": tags.get(STEP_TAG) or run.info.run_name or "?",
        "run_id": run_id,
        "status": run.info.status,
        "experiment_id": run.info.experiment_id,
        "code_version": tags.get(CODE_VERSION_TAG),
        "data": {k[len(DATA_PREFIX) :]: v for k, v in sorted(params.items()) if k.startswith(DATA_PREFIX)},
        "params": {k: v for k, v in sorted(params.items()) if not k.startswith(DATA_PREFIX)},
        "metrics": {key: metric_summary(client.get_metric_history(run_id, key)) for key in sorted(run.data.metrics)},
        "tags": {k: v for k, v in sorted(tags.items()) if not k.startswith("mlflow.")},
    }


def combine(runs: list[dict[str, Any]], training_id: str, package_arn: str) -> dict[str, Any]:
    training = next(run for run in runs if run["run_id"] == training_id)
    evaluations = [
        run
        for run in runs
        if run["run_id"] != training_id
        and (run["tags"].get(TRAINING_RUN_TAG) == training_id or run["step"] == EVALUATION_STEP)
    ]
    curves = {k: v for k, v in training["metrics"].items() if k != BEST_VALIDATION}
    best = training["metrics"].get(BEST_VALIDATION)
    versions = {run["step"]: run["code_version"] for run in runs if run["code_version"]}
    tagged = training["tags"].get(MODEL_PACKAGE_TAG)
    return {
        "experiment_id": training["experiment_id"],
        "execution_id": training["tags"].get(EXECUTION_ID_TAG),
        "runs": runs,
        "data": {run["step"]: run["data"] for run in runs if run["data"]},
        "code": {"version": training["code_version"], "by_step": versions},
        "parameters": training["params"],
        "metrics": {
            "training": curves,
            BEST_VALIDATION: best["max"] if best and "max" in best else (best or {}).get("final"),
            "evaluation": {k: v["final"] for run in evaluations for k, v in run["metrics"].items()},
            "evaluation_run_ids": [run["run_id"] for run in evaluations],
        },
        "health": training["tags"].get(HEALTH_TAG),
        "link": {
            "model_package_arn": tagged,
            "model_artifact_uri": training["tags"].get(MODEL_ARTIFACT_TAG),
            "matches": None if tagged is None else tagged == package_arn,
        },
    }
