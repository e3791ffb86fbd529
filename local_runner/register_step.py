"""A RegisterModel step: a new version in the local model registry.

The step's evaluated arguments (group, inference specification, model metrics, approval
status from the pipeline parameter) are stored as the version; the model artifact is
referenced where the run's local S3 holds it, the model metrics documents are copied into
the version folder, and their ``{"value": ...}`` entries become the version's metrics.
"""

from __future__ import annotations

import json

from local_runner.errors import RegistryError, StepFailed
from local_runner.expressions import references
from local_runner.registry import APPROVAL_STATUSES, LocalRegistry, flat_metrics
from local_runner.step_environment import StepEnvironment

METRIC_SECTIONS = ("ModelQuality", "ModelDataQuality", "Bias", "Explainability")
# Where a RegisterModel step names metrics documents: section -> kind -> {"S3Uri", "ContentType"}.
DOCUMENT_GROUPS = ("ModelMetrics", "DriftCheckBaselines")


def drop_metrics_of(arguments: dict, steps: set[str]) -> tuple[dict, list[str]]:
    """(a copy of ``arguments`` without the metrics documents that come from ``steps``, what was dropped).

    For steps that did not run locally: the version is registered with what exists, and the
    dropped documents are named (e.g. ``DriftCheckBaselines.ModelDataQuality.Statistics``)."""
    result, dropped = json.loads(json.dumps(arguments)), []
    for group in DOCUMENT_GROUPS:
        for section, documents in (result.get(group) or {}).items():
            for kind in [k for k, source in (documents or {}).items() if references(source) & steps]:
                del documents[kind]
                dropped.append(f"{group}.{section}.{kind}")
    return result, dropped


def metrics_documents(model_metrics: dict) -> dict[str, str]:
    """ "ModelQuality.Statistics" -> s3 URI, for every metrics document the step names."""
    found = {}
    for section in METRIC_SECTIONS:
        for kind, source in (model_metrics.get(section) or {}).items():
            if isinstance(source, dict) and source.get("S3Uri"):
                found[f"{section}.{kind}"] = source["S3Uri"]
    return found


def run_register_step(
    env: StepEnvironment, registry: LocalRegistry, execution_arn: str, local: dict | None = None
) -> dict:
    """``local``: more facts for the version's "Local" block (e.g. documents not registered locally)."""
    args = env.arguments
    status = args.get("ModelApprovalStatus", "PendingManualApproval")
    if status not in APPROVAL_STATUSES:
        raise StepFailed(
            f"ValidationException: ModelApprovalStatus {status!r} is not one of {', '.join(APPROVAL_STATUSES)}"
        )
    containers = (args.get("InferenceSpecification") or {}).get("Containers") or []
    if not containers:
        raise StepFailed("ValidationException: InferenceSpecification.Containers is empty")
    model_paths = []
    for container in containers:
        uri = container.get("ModelDataUrl")
        if uri:
            path = env.s3.path(uri)
            if not path.is_file():
                raise StepFailed(f"ValidationException: ModelDataUrl {uri} does not exist (local {path})")
            model_paths.append(str(path))
    files, metrics = {}, {}
    for name, uri in metrics_documents(args.get("ModelMetrics") or {}).items():
        path = env.s3.path(uri)
        if not path.is_file():
            raise StepFailed(f"ValidationException: model metrics {name} {uri} does not exist (local {path})")
        file_name = f"{name.replace('.', '-').lower()}-{path.name}"
        files[file_name] = path
        if name == "ModelQuality.Statistics":
            try:
                metrics = flat_metrics(json.loads(path.read_text()))
            except json.JSONDecodeError as error:
                raise StepFailed(f"ValidationException: {uri} is not JSON: {error}") from None
    package = {
        **args,
        "MetadataProperties": {"GeneratedBy": execution_arn},
        "Metrics": metrics,
        "Local": {
            **(local or {}),
            "ModelData": model_paths,
            "RunFolder": str(env.step_dir.parent.parent),
            "PipelineExecutionId": env.execution_id,
        },
    }
    try:
        stored = registry.register(package, files, env.region, env.account)
    except RegistryError as error:
        raise StepFailed(f"ValidationException: {error}") from None
    env.console.print(
        f"    registered {stored['ModelPackageGroupName']} version {stored['ModelPackageVersion']}"
        f" ({stored['ModelApprovalStatus']}) in {registry.root}"
    )
    return stored
