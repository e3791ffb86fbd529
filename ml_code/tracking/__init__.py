"""Experiment tracking with MLflow, best effort: a job never fails because of it.

Each pipeline step logs one MLflow run (``start_step_run``) in the experiment named after its
pipeline, tagged with the pipeline execution id. What a step is told comes from its
environment (``context.TrackingContext``): on SageMaker the tracking URI is the
environment's SageMaker AI MLflow App ARN (the ``sagemaker-mlflow`` plugin signs the requests
with the job's role); locally a SQLite store under build/. When the URI is unset, the client
is missing or the service is unreachable, the step logs one warning and carries on.
"""

from ml_code.tracking.context import NOT_TRACKED, TrackingContext, input_uris
from ml_code.tracking.names import (
    EVALUATION_RUN_KEY,
    MODEL_PACKAGE_TAG,
    RUN_FILE,
    TRACKING_KEY,
    TRAINING_RUN_KEY,
)
from ml_code.tracking.run import StepRun, start_step_run, tag_runs

__all__ = [
    "EVALUATION_RUN_KEY",
    "MODEL_PACKAGE_TAG",
    "NOT_TRACKED",
    "RUN_FILE",
    "TRACKING_KEY",
    "TRAINING_RUN_KEY",
    "StepRun",
    "TrackingContext",
    "input_uris",
    "start_step_run",
    "tag_runs",
]
