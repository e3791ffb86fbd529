"""What a job is told about tracking, read from its environment."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from ml_code.tracking.names import (
    CODE_VERSION_ENV,
    EXECUTION_ID_ENV,
    EXPERIMENT_ENV,
    STEP_NAME_ENV,
    TRACKING_URI_ENV,
)

# A run id that stands for "not tracked" where a value must be present (job arguments, the
# model package's metadata): SageMaker rejects empty strings in some of those fields.
NOT_TRACKED = "none"
DEFAULT_EXPERIMENT = "roberta-sentiment"
# The pipeline gives each job the S3 URI of every input as DATA_URI_<INPUT NAME>.
DATA_URI_PREFIX = "DATA_URI_"


@dataclass(frozen=True)
class TrackingContext:
    uri: str
    experiment: str
    execution_id: str
    step: str
    code_version: str
    host: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, step: str = "") -> TrackingContext:
        """``step``: the step's name when its environment does not give one (a script run by hand)."""
        env = os.environ if environ is None else environ
        return cls(
            uri=env.get(TRACKING_URI_ENV, "").strip(),
            experiment=env.get(EXPERIMENT_ENV, "").strip() or DEFAULT_EXPERIMENT,
            execution_id=env.get(EXECUTION_ID_ENV, "").strip(),
            step=env.get(STEP_NAME_ENV, "").strip() or step,
            code_version=env.get(CODE_VERSION_ENV, "").strip(),
            host=socket.gethostname(),
        )

    @property
    def enabled(self) -> bool:
        return self.uri not in ("", NOT_TRACKED)


def input_uris(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The S3 URIs a step read, as parameters: ``data.<input name>`` -> URI."""
    env = os.environ if environ is None else environ
    return {
        f"data.{name[len(DATA_URI_PREFIX) :].lower()}": value
        for name, value in sorted(env.items())
        if name.startswith(DATA_URI_PREFIX) and value
    }
