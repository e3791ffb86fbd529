"""The registry's facts about a model package, from its DescribeModelPackage shape (the local
registry's model-package.json has the same shape)."""

from __future__ import annotations

from typing import Any

from local_runner.register_step import metrics_documents  # the same shape on AWS
from ml_code.tracking.names import RUN_ID_METADATA, TRACKING_URI_METADATA


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def package_facts(package: dict[str, Any]) -> dict[str, Any]:
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
    return {
        "arn": package.get("ModelPackageArn"),
        "group": package.get("ModelPackageGroupName"),
        "version": package.get("ModelPackageVersion"),
        "status": package.get("ModelPackageStatus"),
        "created": _text(package.get("CreationTime")),
        "model_data": [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")],
        "generated_by": (package.get("MetadataProperties") or {}).get("GeneratedBy"),
        "metadata": dict(package.get("CustomerMetadataProperties") or {}),
        "metrics_documents": metrics_documents(package.get("ModelMetrics") or {}),
        "registry_metrics": dict(package.get("Metrics") or {}),  # the local registry's flat copy
    }


def approval_facts(package: dict[str, Any], history: list[dict[str, Any]], history_source: str) -> dict[str, Any]:
    """``history``: oldest first, each {"status", "time", "by", "note"}."""
    return {
        "status": package.get("ModelApprovalStatus"),
        "description": package.get("ApprovalDescription"),
        "last_modified": _text(package.get("LastModifiedTime")),
        "history": history,
        "history_source": history_source,
    }


def tracking_reference(package: dict[str, Any], uri_override: str | None) -> tuple[str | None, str | None]:
    """(run id, tracking URI): what the package records, the URI overridden by --tracking-uri."""
    metadata = package.get("CustomerMetadataProperties") or {}
    return metadata.get(RUN_ID_METADATA), uri_override or metadata.get(TRACKING_URI_METADATA)
