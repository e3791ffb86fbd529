"""What the window is compared with: the served package's reference.csv and evaluation.json.

``served`` resolves them at run time, so the job follows whatever version the endpoint serves:
SSM parameter (the served model package ARN, kept by the serving stack and deploy function)
-> DescribeModelPackage -> CustomerMetadataProperties["MonitoringReferenceUri"] (the
reference folder ml_code/baseline.py wrote) and ModelMetrics.ModelQuality.Statistics.S3Uri
(ml_code/evaluate.py's evaluation.json).
"""

from __future__ import annotations

import io
import json
import logging

import pandas as pd

from ml_code.monitoring import storage
from ml_code.monitoring.record_preprocessor import FEATURES

LOG = logging.getLogger("ml_code.monitoring.reference")
SERVED = "served"
METADATA_KEY = "MonitoringReferenceUri"  # Register records it with the package (infra/pipeline/monitoring_steps.py)
FILE = "reference.csv"
COLUMNS = ("review_text", *FEATURES)  # and "label", the true class (ml_code/baseline.py)


class ReferenceError(ValueError):
    """No usable reference; the message says why."""


def resolve_served(ssm, sagemaker, parameter: str) -> dict:
    """{"model_package_arn", "reference_uri", "evaluation_uri" (None if the package has none)}."""
    if not parameter:
        raise ReferenceError("--reference-uri served needs --served-package-parameter")
    try:
        arn = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except Exception as error:
        raise ReferenceError(f"cannot resolve the served model package from {parameter}: {error}") from None
    reference = (package.get("CustomerMetadataProperties") or {}).get(METADATA_KEY)
    if not reference:
        raise ReferenceError(f"model package {arn} has no CustomerMetadataProperties {METADATA_KEY}")
    evaluation = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
    return {"model_package_arn": arn, "reference_uri": reference, "evaluation_uri": evaluation}


def reference_file(uri: str) -> str:
    """A folder's reference.csv, or the file itself."""
    return uri if str(uri).endswith(".csv") else storage.join(uri, FILE)


def load(uri: str) -> pd.DataFrame:
    """reference.csv as a DataFrame (text as written: no NA guessing); ReferenceError if unusable."""
    path = reference_file(uri)
    try:
        frame = pd.read_csv(io.BytesIO(storage.read_bytes(path)), keep_default_na=False)
    except Exception as error:
        raise ReferenceError(f"reference {path} is missing or unreadable: {type(error).__name__}: {error}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ReferenceError(f"reference {path} lacks columns {', '.join(missing)} (ml_code/baseline.py writes them)")
    if frame.empty:
        raise ReferenceError(f"reference {path} has no rows")
    return frame


def evaluation_accuracy(uri: str | None) -> float | None:
    """evaluation.json's multiclass_classification_metrics.accuracy.value; None if unknown."""
    if not uri:
        return None
    try:
        document = json.loads(storage.read_bytes(uri))
        return float(document["multiclass_classification_metrics"]["accuracy"]["value"])
    except Exception as error:
        LOG.warning("[reference] no accuracy from evaluation %s: %s", uri, error)
        return None
