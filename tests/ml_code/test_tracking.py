"""ml_code.tracking: what a step logs to MLflow, and that tracking problems never fail a job."""

from __future__ import annotations

import logging
import sys

import pytest
from mlflow.tracking import MlflowClient

from ml_code import link_run
from ml_code.tracking import NOT_TRACKED, TrackingContext, input_uris, start_step_run, tag_runs
from ml_code.tracking.flatten import flat_numbers
from ml_code.tracking.names import (
    CODE_VERSION_ENV,
    CODE_VERSION_TAG,
    EXECUTION_ID_ENV,
    EXECUTION_ID_TAG,
    EXPERIMENT_ENV,
    MODEL_ARTIFACT_TAG,
    MODEL_PACKAGE_TAG,
    STEP_NAME_ENV,
    STEP_TAG,
    TRACKING_URI_ENV,
)
from ml_code.tracking.run import artifact_location

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """One SQLite store for the module: creating its schema takes seconds."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def job_env(monkeypatch, store, request):
    """A pipeline job's environment, one experiment per test."""
    experiment = f"test-{request.node.name}"
    for name, value in {
        TRACKING_URI_ENV: store,
        EXPERIMENT_ENV: experiment,
        EXECUTION_ID_ENV: "exec-123",
        STEP_NAME_ENV: "Train",
        CODE_VERSION_ENV: "abc123",
        "DATA_URI_TRAIN": "s3://bucket/train/",
    }.items():
        monkeypatch.setenv(name, value)
    return experiment


def tracking_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ml_code.tracking" and r.levelno >= logging.WARNING]


def test_a_step_run_holds_params_tags_curves_and_artifacts(job_env, store, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("{}")
    with start_step_run("Preprocess", params={"epochs": 2, "model": "roberta", **input_uris()}) as run:
        for step, loss in enumerate((0.9, 0.7, 0.5), start=1):
            run.log_metrics({"train.loss": loss, "note": "not a number"}, step=step)
        run.set_tags({"training.health": "ok"})
        run.log_artifact(report)
    client = MlflowClient(store)
    logged = client.get_run(run.run_id)
    assert logged.info.run_name == "Train"  # PIPELINE_STEP_NAME wins over the script's own name
    assert logged.info.status == "FINISHED"
    assert logged.data.params == {"epochs": "2", "model": "roberta", "data.train": "s3://bucket/train/"}
    assert logged.data.tags[EXECUTION_ID_TAG] == "exec-123"
    assert logged.data.tags[STEP_TAG] == "Train"
    assert logged.data.tags[CODE_VERSION_TAG] == "abc123"
    assert logged.data.tags["training.health"] == "ok"
    history = client.get_metric_history(run.run_id, "train.loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.9), (2, 0.7), (3, 0.5)]
    assert "note" not in logged.data.metrics
    assert [a.path for a in client.list_artifacts(run.run_id)] == ["report.json"]
    assert client.get_experiment_by_name(job_env).artifact_location == artifact_location(store)


def test_a_failing_block_ends_the_run_failed(job_env, store):
    with pytest.raises(RuntimeError), start_step_run("Train") as run:
        raise RuntimeError("training diverged")
    assert MlflowClient(store).get_run(run.run_id).info.status == "FAILED"


def test_only_the_primary_worker_logs(job_env, store):
    run = start_step_run("Train", primary=False)
    run.log_metrics({"loss": 1.0})
    assert run.run_id == NOT_TRACKED and not run.active
    assert MlflowClient(store).get_experiment_by_name(job_env) is None


@pytest.mark.parametrize("uri", ["", NOT_TRACKED])
def test_no_tracking_uri_means_no_run_and_no_warning(monkeypatch, caplog, uri):
    monkeypatch.setenv(TRACKING_URI_ENV, uri)
    with start_step_run("Train", params={"a": 1}) as run:
        run.log_metrics({"loss": 1.0})
    assert run.run_id == NOT_TRACKED
    assert tracking_warnings(caplog) == []


def test_an_unreachable_service_costs_one_warning_and_nothing_else(monkeypatch, caplog):
    monkeypatch.setenv(TRACKING_URI_ENV, UNREACHABLE)
    with start_step_run("Evaluate", params={"a": 1}) as run:
        run.log_metrics({"accuracy": 0.9})
        run.set_tags({"x": "y"})
    assert run.run_id == NOT_TRACKED
    (warning,) = tracking_warnings(caplog)
    assert "carries on" in warning
    assert tag_runs(["abc"], {"k": "v"}) == []
    assert len(tracking_warnings(caplog)) == 2  # one more job, one more warning


def test_a_missing_client_costs_one_warning(monkeypatch, caplog, store):
    monkeypatch.setenv(TRACKING_URI_ENV, store)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow raises ImportError
    with start_step_run("Train") as run:
        run.log_params({"a": 1})
        run.log_metrics({"loss": 1.0})
    assert run.run_id == NOT_TRACKED
    assert len(tracking_warnings(caplog)) == 1


def test_a_failure_mid_run_warns_once_and_stops_logging(job_env, caplog):
    run = start_step_run("Train")

    class Refusing:
        calls = 0

        def log_batch(self, *args, **kwargs):
            self.calls += 1
            raise ConnectionError("service went away")

    refusing = Refusing()
    run._client = refusing
    run.log_metrics({"loss": 1.0}, step=1)
    run.log_metrics({"loss": 0.5}, step=2)
    run.set_tags({"a": "b"})
    run.end()
    assert refusing.calls == 1
    (warning,) = tracking_warnings(caplog)
    assert "service went away" in warning
    assert run.run_id != NOT_TRACKED  # the run was created before the failure


def test_link_run_tags_each_tracked_run_with_the_package(job_env, store):
    training = start_step_run("Train")
    training.end()
    evaluation = start_step_run("Evaluate")
    evaluation.end()
    arn = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/group/3"
    link_run.main(
        [
            "--model-package-arn",
            arn,
            "--model-data-uri",
            "s3://models/model.tar.gz",
            "--run-id",
            training.run_id,
            "--run-id",
            NOT_TRACKED,
            "--run-id",
            evaluation.run_id,
        ]
    )
    client = MlflowClient(store)
    for run_id in (training.run_id, evaluation.run_id):
        tags = client.get_run(run_id).data.tags
        assert tags[MODEL_PACKAGE_TAG] == arn
        assert tags[MODEL_ARTIFACT_TAG] == "s3://models/model.tar.gz"


def test_context_reads_the_job_environment():
    context = TrackingContext.from_env(
        {TRACKING_URI_ENV: " arn:aws:sagemaker:eu-west-1:1:mlflow-app/app-1 ", EXECUTION_ID_ENV: "e1"}, step="Train"
    )
    assert context.enabled and context.uri.startswith("arn:") and context.step == "Train"
    assert context.experiment == "roberta-sentiment"
    assert input_uris({"DATA_URI_TEST": "s3://b/test", "DATA_URI_EMPTY": "", "OTHER": "x"}) == {
        "data.test": "s3://b/test"
    }


def test_flat_numbers_names_registry_values_by_their_parent():
    document = {
        "multiclass_classification_metrics": {"accuracy": {"value": 0.8, "standard_deviation": "NaN"}},
        "per_class": {"negative": {"f1": 0.7, "support": 10}},
        "confusion_matrix": {"a": {"b": 3}},
        "ok": True,
        "name": "x",
    }
    assert flat_numbers(document, skip=("confusion_matrix",)) == {
        "multiclass_classification_metrics.accuracy": 0.8,
        "per_class.negative.f1": 0.7,
        "per_class.negative.support": 10.0,
    }


def test_sqlite_artifacts_go_beside_the_database(tmp_path):
    assert artifact_location(f"sqlite:///{tmp_path}/m.db") == (tmp_path / "mlartifacts").as_uri()
    assert artifact_location("arn:aws:sagemaker:eu-west-1:1:mlflow-app/app-1") is None
