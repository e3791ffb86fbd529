"""The MLflow client as every reader and writer here opens it (the jobs' runs, tools/lineage).

Imported lazily by callers: a job without the client, or with tracking off, never imports it.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

# MLflow's REST client retries a refused connection for minutes by default; an unreachable
# service must cost seconds. Only defaults: an operator's own setting wins.
CLIENT_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}
_CONNECTION_ERROR = re.compile(r"\[Errno -?\d+\][^'\")]*")


def mlflow_client(uri: str) -> Any:
    """An MlflowClient for ``uri``: an MLflow App ARN, ``sqlite:///...``, or http(s)."""
    for name, value in CLIENT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    import mlflow
    from mlflow.tracking import MlflowClient

    # The sagemaker-mlflow plugin's header provider runs for every URI and warns on any but an ARN.
    logging.getLogger("mlflow.tracking.request_header.registry").setLevel(logging.ERROR)
    if uri.startswith("arn:"):
        # The plugin signs requests for the process-wide tracking URI, not the client's own.
        mlflow.set_tracking_uri(uri)
    return MlflowClient(tracking_uri=uri)


def sqlite_database(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative to the working folder, as MLflow
    reads it, unless ``sqlite:////`` makes it absolute); None for any other URI."""
    parsed = urlparse(uri)
    if parsed.scheme != "sqlite":
        return None
    if uri.startswith("sqlite:////"):
        return Path(unquote(parsed.path))
    return Path(unquote(parsed.path.removeprefix("/")))


def short_error(error: BaseException, limit: int = 300) -> str:
    """One line about ``error``; of urllib3's retry chain only the root cause says anything."""
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    cause = _CONNECTION_ERROR.search(text)
    if cause:
        return f"cannot connect: {cause.group(0).strip()}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
