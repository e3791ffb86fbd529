"""A model package in an environment's SageMaker Model Registry: the package, its approval
history (CloudTrail), its pipeline execution's parameters, and the endpoint variants serving it."""

from __future__ import annotations

import json
import re
from typing import Any

from tools.aws_cli import ClientFactory, ToolError, aws_error_message
from tools.challenger import endpoint_state
from tools.lineage.package import approval_facts, package_facts

EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[^:]+:\d{12}:pipeline/[^/]+/execution/[^/]+$")
APPROVAL_EVENT = "UpdateModelPackage"
MAX_EVENTS = 1000


def _short(error: Exception) -> str:
    return aws_error_message(error) if hasattr(error, "response") else f"{type(error).__name__}: {error}"


def latest_package(sagemaker, group: str, approved: bool) -> str:
    """The newest version of ``group`` (``approved``: the newest Approved one)."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 1,
    }
    if approved:
        request["ModelApprovalStatus"] = "Approved"
    found = sagemaker.list_model_packages(**request).get("ModelPackageSummaryList", [])
    if not found:
        raise ToolError(f"model package group {group} has no {'Approved version' if approved else 'version'}")
    return str(found[0]["ModelPackageArn"])


def approval_history(cloudtrail, package: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """Registration, then every approval change CloudTrail still holds (90 days), oldest first."""
    created_by = (package.get("CreatedBy") or {}).get("UserProfileName")
    history = [{"status": None, "time": str(package.get("CreationTime")), "by": created_by, "note": "registered"}]
    arn = str(package["ModelPackageArn"]).lower()
    changes = []
    try:
        pages = cloudtrail.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": APPROVAL_EVENT}],
            StartTime=package["CreationTime"],
            PaginationConfig={"MaxItems": MAX_EVENTS},
        )
        for page in pages:
            for event in page.get("Events", []):
                record = json.loads(event.get("CloudTrailEvent") or "{}")
                request = record.get("requestParameters") or {}
                if str(request.get("modelPackageArn", "")).lower() != arn or not request.get("modelApprovalStatus"):
                    continue
                changes.append(
                    {
                        "status": request["modelApprovalStatus"],
                        "time": record.get("eventTime") or str(event.get("EventTime")),
                        "by": (record.get("userIdentity") or {}).get("arn") or event.get("Username"),
                        "note": request.get("approvalDescription") or "",
                    }
                )
    except Exception as error:
        return history, f"CloudTrail not readable ({_short(error)}): registration and current status only"
    return history + sorted(changes, key=lambda c: str(c["time"])), f"CloudTrail {APPROVAL_EVENT} events (90 days)"


def pipeline_parameters(sagemaker, execution_arn: str | None) -> tuple[dict[str, Any], str]:
    if not execution_arn or not EXECUTION_ARN.match(execution_arn):
        return {}, "the package names no pipeline execution (MetadataProperties.GeneratedBy)"
    try:
        pages = sagemaker.get_paginator("list_pipeline_parameters_for_execution").paginate(
            PipelineExecutionArn=execution_arn
        )
        found = {p["Name"]: p["Value"] for page in pages for p in page.get("PipelineParameters", [])}
    except Exception as error:
        return {}, f"not readable: {_short(error)}"
    return found, execution_arn


def serving(sagemaker, endpoint: str, arn: str) -> dict[str, Any]:
    try:
        state = endpoint_state(sagemaker, endpoint)
    except Exception as error:
        reason = str(error) if isinstance(error, ToolError) else _short(error)
        return {"deployed": False, "where": [], "note": f"endpoint {endpoint}: {reason}"}
    where = []
    for v in state.variants:
        if not v.package or v.package.lower() != arn.lower():
            continue
        try:
            share: float | None = round(state.share(v), 2)
        except ToolError:  # a shadow variant's share needs exactly one champion
            share = None
        where.append(
            {
                "endpoint": state.name,
                "endpoint_status": state.status,
                "variant": v.name,
                "role": v.role,
                "kind": "shadow" if v.shadow else "production",
                "weight": v.weight,
                "live_weight": v.live_weight,
                "share_percent": share,
                "instances": v.instances,
            }
        )
    others = sorted({v.package or "?" for v in state.variants if (v.package or "").lower() != arn.lower()})
    serves = ", ".join(others) or "nothing"
    note = "" if where else f"not served by {state.name} ({state.status}), which serves {serves}"
    return {"deployed": bool(where), "where": where, "note": note}


def aws_lineage(
    clients: ClientFactory, config, arn: str | None, approved: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the raw DescribeModelPackage answer, the registry's facts)."""
    sagemaker = clients("sagemaker")
    if not arn:
        arn = latest_package(sagemaker, config.model_package_group_name, approved)
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    history, history_source = approval_history(clients("cloudtrail"), package)
    parameters, parameters_source = pipeline_parameters(sagemaker, package_facts(package)["generated_by"])
    facts = {
        "source": f"SageMaker Model Registry ({config.region}, environment {config.name})",
        "package": package_facts(package),
        "approval": approval_facts(package, history, history_source),
        "pipeline_parameters": parameters,
        "pipeline_parameters_source": parameters_source,
        "serving": serving(sagemaker, config.endpoint_name, str(package["ModelPackageArn"])),
    }
    return package, facts
