"""A version of the local runner's registry (<root>/registry): package, approval history,
the execution's parameters (run.json of its run folder) and what serving leaves on disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tools.aws_cli import ToolError
from tools.lineage.package import approval_facts, package_facts


def registry_root(root: Path) -> Path:
    return Path(root) / "registry"  # local_runner.runner.registry_path (not imported: it loads the runner)


def load_package(
    root: Path, group: str | None, version: int | None, arn: str | None = None, approved: bool = False
) -> tuple[dict[str, Any], Any]:
    """(the version's model-package.json, the LocalRegistry): version ``version``, the version
    whose ARN is ``arn``, the newest Approved (``approved``), or else the newest."""
    from local_runner.errors import RegistryError
    from local_runner.registry import LocalRegistry

    folder = registry_root(root)
    if not Path(root).is_dir():
        raise ToolError(f"--local-root {root}: no such folder (make demo writes build/demo)")
    if not folder.is_dir():
        raise ToolError(
            f"no registry under {root} ({folder} is missing): run `python -m local_runner run --root {root}` first"
        )
    registry = LocalRegistry(folder)
    try:
        if arn:
            return _by_arn(registry, arn, group), registry
        name = registry.resolve_group(group)
        if version is not None:
            return registry.get(name, version), registry
        return registry.latest(name, status="Approved" if approved else None), registry
    except RegistryError as error:
        raise ToolError(str(error)) from None


def _by_arn(registry: Any, arn: str, group: str | None) -> dict[str, Any]:
    groups = [registry.resolve_group(group)] if group else registry.groups()
    for name in groups:
        for package in registry.versions(name):
            if package["ModelPackageArn"] == arn:
                return package
    raise ToolError(f"no version with ARN {arn} in {registry.root} (groups: {', '.join(groups) or 'none'})")


def tracking_uri(package: dict[str, Any], root: Path) -> str:
    """The store the local runner logs to: the URI the version records when it is a SQLite store
    on this machine, else <root>/mlflow.db (the runner's default)."""
    from ml_code.tracking.client import sqlite_database
    from ml_code.tracking.names import TRACKING_URI_METADATA

    recorded = str((package.get("CustomerMetadataProperties") or {}).get(TRACKING_URI_METADATA) or "")
    database = sqlite_database(recorded)
    if database is not None and database.is_file():
        return recorded
    from local_runner.tracking import local_tracking_uri

    return local_tracking_uri(root)


def pipeline_parameters(package: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The execution's parameter values from run.json, and where they came from (or why not)."""
    folder = (package.get("Local") or {}).get("RunFolder")
    if not folder:
        return {}, "the version records no run folder"
    run_json = Path(folder) / "run.json"
    try:
        return dict(json.loads(run_json.read_text()).get("parameters") or {}), str(run_json)
    except (OSError, ValueError, AttributeError) as error:
        return {}, f"{run_json}: {type(error).__name__}"


def serving(package: dict[str, Any], registry: Any) -> dict[str, Any]:
    """Locally nothing persistent records what is served: `local_runner serve` is a foreground
    process, and capture records do not name a version. Say what serve would pick."""
    try:
        newest_approved = registry.latest(package["ModelPackageGroupName"], status="Approved")["ModelPackageVersion"]
    except Exception:
        newest_approved = None
    picked = newest_approved == package["ModelPackageVersion"]
    default = (
        "this version" if picked else f"version {newest_approved}" if newest_approved else "nothing (none Approved)"
    )
    return {
        "deployed": False,
        "where": [],
        "note": (
            "not deployed (local registry): nothing on disk records a served version (`python -m local_runner"
            " serve` runs in the foreground, capture records name no version); serve's default, the newest"
            f" Approved, is {default}"
        ),
        "default_serve_pick": picked,
    }


def local_lineage(
    root: Path, group: str | None, version: int | None, arn: str | None = None, approved: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the raw package, the registry's facts)."""
    package, registry = load_package(root, group, version, arn, approved)
    history = [
        {"status": h.get("Status"), "time": h.get("Time"), "by": h.get("By"), "note": h.get("Note") or ""}
        for h in package.get("ApprovalHistory") or []
    ]
    parameters, parameters_source = pipeline_parameters(package)
    local = package.get("Local") or {}
    facts = {
        "source": f"local registry {registry.root}",
        "package": {
            **package_facts(package),
            "execution_id": local.get("PipelineExecutionId"),
            "local_model_data": local.get("ModelData") or [],
        },
        "approval": approval_facts(package, history, "the local registry's ApprovalHistory"),
        "pipeline_parameters": parameters,
        "pipeline_parameters_source": parameters_source,
        "serving": serving(package, registry),
    }
    return package, facts
