"""MLflow experiment tracking as the pipelines hand it to their jobs (ml_code/tracking reads it).

Each of the training, monitor and compare pipelines has a ``TrackingUri`` parameter whose
default is the environment's SageMaker AI MLflow App ARN (``"none"`` where tracking is off:
the model registry refuses an empty metadata value, and ml_code treats ``"none"`` as off).
Every job of those pipelines gets the same five variables (ml_code.tracking.names) and the
S3 URI of each input it reads as ``DATA_URI_<INPUT NAME>`` (logged as ``data.<name>``).

Register records the training run with the model package (CustomerMetadataProperties
``MlflowRunId`` and ``MlflowTrackingUri``, which tools/lineage reads back), and LinkRun
(ml_code/link_run.py) tags the runs with the package's ARN: the link both ways.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sagemaker.workflow.entities import PipelineVariable
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.parameters import ParameterString

from ml_code.tracking.context import DATA_URI_PREFIX, NOT_TRACKED
from ml_code.tracking.names import (
    CODE_VERSION_ENV,
    EXECUTION_ID_ENV,
    EXPERIMENT_ENV,
    STEP_NAME_ENV,
    TRACKING_URI_ENV,
)

TRACKING_URI = "TrackingUri"
_NOT_IN_NAME = re.compile(r"[^A-Z0-9_]")

Value = str | PipelineVariable


def tracking_uri_parameter(tracking_uri: str) -> ParameterString:
    """``tracking_uri``: the MLflow App ARN; "" (tracking off) becomes ``"none"``, never empty."""
    return ParameterString(TRACKING_URI, tracking_uri or NOT_TRACKED)


def data_uri_variable(input_name: str) -> str:
    """DATA_URI_<INPUT NAME>: upper case, anything but letters, digits and _ as _."""
    return DATA_URI_PREFIX + _NOT_IN_NAME.sub("_", input_name.upper())


@dataclass(frozen=True)
class JobTracking:
    """What a pipeline tells each of its jobs about tracking; ``code_version``: the code
    archive's version (the CDK asset hash; locally the bundle's sha256)."""

    uri: ParameterString
    experiment: str  # the pipeline's name
    code_version: str

    @property
    def enabled(self) -> bool:
        """Tracked by default (an App exists for this environment); an execution may still
        override TrackingUri, which is how the local runner points jobs at its own store."""
        return self.uri.default_value not in ("", NOT_TRACKED)

    def environment(self, step: str, inputs: Mapping[str, Value] | None = None) -> dict[str, Value]:
        """The job environment of step ``step``; ``inputs``: input or channel name -> S3 URI."""
        env: dict[str, Value] = {
            TRACKING_URI_ENV: self.uri,
            EXPERIMENT_ENV: self.experiment,
            EXECUTION_ID_ENV: ExecutionVariables.PIPELINE_EXECUTION_ID,
            STEP_NAME_ENV: step,
            CODE_VERSION_ENV: self.code_version,
        }
        for name, uri in (inputs or {}).items():
            env[data_uri_variable(name)] = uri
        return env
