"""The local stand-in for the environment's SageMaker AI MLflow App: a SQLite store under --root.

The definitions carry a ``TrackingUri`` parameter (default: the App's ARN on AWS, ``none``
where tracking is off). Locally, unless ``--param TrackingUri=...`` says otherwise, every
run of one root logs to ``<root>/mlflow.db`` (artifacts in ``<root>/mlartifacts``), so
training, monitoring and comparison runs are side by side, browsable with ``mlflow ui``.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

TRACKING_PARAMETER = "TrackingUri"  # infra/pipeline/tracking.py
STORE_FILE = "mlflow.db"


def local_tracking_uri(root: Path) -> str:
    return f"sqlite:///{(Path(root) / STORE_FILE).resolve()}"


def browse_command(uri: str) -> str:
    return f"mlflow ui --backend-store-uri {uri}"


def apply_local_tracking(parameters: dict, overridden: set[str], root: Path) -> str | None:
    """Point ``TrackingUri`` at the root's store unless it was overridden; returns the URI the
    jobs log to, None when the definition has no such parameter or tracking is off."""
    if TRACKING_PARAMETER not in parameters:
        return None
    if TRACKING_PARAMETER not in overridden:
        parameters[TRACKING_PARAMETER] = local_tracking_uri(root)
    uri = str(parameters[TRACKING_PARAMETER]).strip()
    return None if uri in ("", "none") else uri


def tracking_line(uri: str | None) -> str:
    """The run's console line about tracking."""
    if uri is None:
        return "off (TrackingUri none)"
    browse = f"; browse: {browse_command(uri)}" if uri.startswith("sqlite:") else ""
    return f"one MLflow run per step -> {uri}{browse}"


def code_version() -> str:
    """The ml_code bundle's sha256, as the jobs' ML_CODE_VERSION (on AWS: the CDK asset hash).
    The bundle is byte-for-byte reproducible, so equal sources give an equal version."""
    from infra.pipeline.code_bundle import build_code_bundle

    with tempfile.TemporaryDirectory(prefix="ml-code-version-") as folder:
        return hashlib.sha256(build_code_bundle(Path(folder)).read_bytes()).hexdigest()
