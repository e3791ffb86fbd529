"""The local model registry: model package groups, versions, metrics and approval status, as JSON files.

    <registry>/<ModelPackageGroupName>/
        group.json                       name, ARN, creation time
        versions/<n>/model-package.json  one version, shaped like DescribeModelPackage, plus
                                         "Metrics" (flat name -> value from the model statistics)
                                         and "Local" (where its files are on this machine)
        versions/<n>/<metrics files>     copies of the ModelMetrics documents (evaluation.json)

Versions are numbered from 1 in the order they are registered (a version folder is created
atomically, so runs sharing a registry never get the same number). Approval changes are
appended to ``ApprovalHistory``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_runner.errors import RegistryError

APPROVAL_STATUSES = ("Approved", "Rejected", "PendingManualApproval")
PACKAGE_FILE = "model-package.json"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def flat_metrics(document: Any) -> dict[str, float]:
    """Every ``{"value": number}`` in a metrics document, by its key (dotted path where names repeat)."""
    found: list[tuple[list[str], float]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            value = node.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and path:
                found.append((path, float(value)))
                return
            for key, child in node.items():
                walk(child, [*path, str(key)])

    walk(document, [])
    names = [path[-1] for path, _ in found]
    return {(path[-1] if names.count(path[-1]) == 1 else ".".join(path)): value for path, value in found}


def _write_json(path: Path, document: dict) -> None:
    """Write-then-rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as out:
        json.dump(document, out, indent=2, default=str)
        out.write("\n")
    os.replace(temporary, path)


class LocalRegistry:
    def __init__(self, root: Path):
        self.root = Path(root)

    def groups(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "group.json").is_file())

    def resolve_group(self, group: str | None) -> str:
        """``group``, or the registry's only group when none is named."""
        groups = self.groups()
        if group:
            if group not in groups:
                raise RegistryError(
                    f"no model package group {group!r} in {self.root} (groups: {', '.join(groups) or 'none'})"
                )
            return group
        if len(groups) == 1:
            return groups[0]
        if not groups:
            raise RegistryError(f"the registry {self.root} is empty: no pipeline run has registered a model yet")
        raise RegistryError(f"the registry {self.root} has several groups ({', '.join(groups)}): name one with --group")

    def versions(self, group: str) -> list[dict]:
        folder = self.root / group / "versions"
        if not folder.is_dir():
            return []
        packages = [
            json.loads((p / PACKAGE_FILE).read_text()) for p in folder.iterdir() if (p / PACKAGE_FILE).is_file()
        ]
        return sorted(packages, key=lambda p: p["ModelPackageVersion"])

    def get(self, group: str, version: int) -> dict:
        path = self.root / group / "versions" / str(version) / PACKAGE_FILE
        if not path.is_file():
            have = ", ".join(str(p["ModelPackageVersion"]) for p in self.versions(group)) or "none"
            raise RegistryError(f"group {group!r} has no version {version} (versions: {have})")
        return json.loads(path.read_text())

    def latest(self, group: str, status: str | None = None) -> dict:
        candidates = [p for p in self.versions(group) if status is None or p["ModelApprovalStatus"] == status]
        if not candidates:
            which = f" with status {status}" if status else ""
            raise RegistryError(f"group {group!r} has no version{which}")
        return candidates[-1]

    def register(self, package: dict, files: dict[str, Path], region: str, account: str) -> dict:
        """Add a version to ``package["ModelPackageGroupName"]`` (created on first use); copies ``files``
        (name -> source) into the version folder. Returns the stored package."""
        group = package["ModelPackageGroupName"]
        status = package.get("ModelApprovalStatus", "PendingManualApproval")
        if status not in APPROVAL_STATUSES:
            raise RegistryError(f"ModelApprovalStatus {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
        group_dir = self.root / group
        arn_prefix = f"arn:aws:sagemaker:{region}:{account}"
        if not (group_dir / "group.json").is_file():
            _write_json(
                group_dir / "group.json",
                {
                    "ModelPackageGroupName": group,
                    "ModelPackageGroupArn": f"{arn_prefix}:model-package-group/{group}",
                    "CreationTime": now(),
                },
            )
        versions_dir = group_dir / "versions"
        versions_dir.mkdir(parents=True, exist_ok=True)
        version = max((int(p.name) for p in versions_dir.iterdir() if p.name.isdigit()), default=0) + 1
        while True:
            try:
                (versions_dir / str(version)).mkdir()
                break
            except FileExistsError:
                version += 1
        folder = versions_dir / str(version)
        local_files = {}
        try:
            for name, source in files.items():
                target = folder / name
                target.write_bytes(Path(source).read_bytes())
                local_files[name] = str(target)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        stamp = now()
        stored = {
            **package,
            "ModelPackageVersion": version,
            "ModelPackageArn": f"{arn_prefix}:model-package/{group}/{version}",
            "ModelPackageStatus": "Completed",
            "ModelApprovalStatus": status,
            "CreationTime": stamp,
            "LastModifiedTime": stamp,
            "ApprovalHistory": [{"Status": status, "Time": stamp, "By": "pipeline", "Note": "registered"}],
            "Local": {**package.get("Local", {}), "Files": local_files},
        }
        _write_json(folder / PACKAGE_FILE, stored)
        return stored

    def set_status(
        self, group: str, version: int, status: str, note: str = "", by: str = "local_runner approve"
    ) -> dict:
        if status not in APPROVAL_STATUSES:
            raise RegistryError(f"status {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
        package = self.get(group, version)
        stamp = now()
        package["ModelApprovalStatus"] = status
        package["LastModifiedTime"] = stamp
        if note:
            package["ApprovalDescription"] = note
        package.setdefault("ApprovalHistory", []).append({"Status": status, "Time": stamp, "By": by, "Note": note})
        _write_json(self.root / group / "versions" / str(version) / PACKAGE_FILE, package)
        return package
