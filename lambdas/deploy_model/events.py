"""The two SageMaker events this function acts on, read through Powertools data classes.

Shapes as documented in "Events that Amazon SageMaker AI sends to Amazon EventBridge"
(docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html):

- "SageMaker Model Package State Change": detail carries ModelPackageGroupName,
  ModelPackageArn, ModelPackageVersion (a number), ModelApprovalStatus (Approved,
  Rejected, PendingManualApproval), ModelPackageStatus, InferenceSpecification...
- "SageMaker Endpoint State Change": detail carries EndpointName, EndpointArn,
  EndpointConfigName and EndpointStatus spelled IN_SERVICE, UPDATING, FAILED... (upper
  snake case, unlike DescribeEndpoint's InService). "SageMaker Endpoint Deployment State
  Change" (blue/green progress) has the same fields and is read the same way.

One request of operators (not SageMaker) is read here too, "end the challenger test"
(lambdas/README.md): ``{"action": "end-challenger-test", "winner": "champion"|"challenger",
"challenger_package_arn": optional}`` as a direct invocation's payload, or the same fields
as the ``detail`` of an EventBridge event with detail-type "End Challenger Test".

Anything else, or these with missing or mistyped fields, is a MalformedEvent: the caller
logs and drops it, because raising would only make Lambda retry a poison event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.data_classes.common import DictWrapper

SOURCE = "aws.sagemaker"  # PutEvents refuses "aws." sources: only AWS services send these
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"
ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"
ENDPOINT_DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint Deployment State Change"
APPROVED = "Approved"
END_CHALLENGER_TEST = "end-challenger-test"  # the operators' request: "action" of the payload
END_CHALLENGER_TEST_DETAIL_TYPE = "End Challenger Test"  # the same request sent through EventBridge
WINNERS = ("champion", "challenger")
_MODEL_PACKAGE_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[^/]+/\d+$")

# DescribeEndpoint's statuses; events spell them IN_SERVICE, UPDATE_ROLLBACK_FAILED...
ENDPOINT_STATUSES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)
_BY_EVENT_SPELLING = {re.sub(r"(?<!^)(?=[A-Z])", "_", status).upper(): status for status in ENDPOINT_STATUSES}


class MalformedEvent(ValueError):
    """Not an event this function can act on; the message says why."""


class ModelPackageStateChangeDetail(DictWrapper):
    @property
    def model_package_group_name(self) -> Any:
        return self.get("ModelPackageGroupName")

    @property
    def model_package_arn(self) -> Any:
        return self.get("ModelPackageArn")

    @property
    def model_package_version(self) -> Any:
        return self.get("ModelPackageVersion")

    @property
    def model_approval_status(self) -> Any:
        return self.get("ModelApprovalStatus")


class EndpointStateChangeDetail(DictWrapper):
    @property
    def endpoint_name(self) -> Any:
        return self.get("EndpointName")

    @property
    def endpoint_status(self) -> Any:
        return self.get("EndpointStatus")


@dataclass(frozen=True)
class ApprovalChange:
    """A model package's approval status changed (to ``status``)."""

    group: str
    package_arn: str
    status: str


@dataclass(frozen=True)
class EndpointChange:
    """An endpoint's status changed; ``status`` in DescribeEndpoint's spelling."""

    endpoint_name: str
    status: str


@dataclass(frozen=True)
class EndChallengerTest:
    """Keep only ``winner`` on the endpoint. ``challenger_package_arn``, when given, must be the
    challenger running now: a test replaced since the operator decided is not ended blindly."""

    winner: str
    challenger_package_arn: str | None = None


def event_id(event: EventBridgeEvent) -> str | None:
    # .get: a malformed event may lack the id too, and its warning must still be logged.
    return event.get("id")


def parse(event: EventBridgeEvent) -> ApprovalChange | EndpointChange | EndChallengerTest:
    if "action" in event:  # a direct invocation by an operator (tools/challenger.py)
        return _end_request(event, "")
    if event.get("detail-type") == END_CHALLENGER_TEST_DETAIL_TYPE:
        detail = event.get("detail")
        if not isinstance(detail, dict):
            raise MalformedEvent(f"detail is {type(detail).__name__}, not an object")
        return _end_request({"action": END_CHALLENGER_TEST, **detail}, "detail.")
    if event.get("source") != SOURCE:
        raise MalformedEvent(f"source is {event.get('source')!r}, not {SOURCE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedEvent(f"detail is {type(detail).__name__}, not an object")
    detail_type = event.get("detail-type")
    if detail_type == MODEL_PACKAGE_STATE_CHANGE:
        return _approval(ModelPackageStateChangeDetail(detail))
    if detail_type in (ENDPOINT_STATE_CHANGE, ENDPOINT_DEPLOYMENT_STATE_CHANGE):
        return _endpoint(EndpointStateChangeDetail(detail))
    raise MalformedEvent(f"unexpected detail-type {detail_type!r}")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"detail.{field} is {value!r}, not a non-empty string")
    return value


def _approval(detail: ModelPackageStateChangeDetail) -> ApprovalChange:
    arn = _text(detail.model_package_arn, "ModelPackageArn")
    if not arn.startswith("arn:") or ":model-package/" not in arn:
        raise MalformedEvent(f"detail.ModelPackageArn {arn!r} is not a model package ARN")
    version = detail.model_package_version
    # Optional here (the registry is asked for the version), but a wrong type means a wrong shape.
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise MalformedEvent(f"detail.ModelPackageVersion is {version!r}, not an integer")
    return ApprovalChange(
        group=_text(detail.model_package_group_name, "ModelPackageGroupName"),
        package_arn=arn,
        status=_text(detail.model_approval_status, "ModelApprovalStatus"),
    )


def _endpoint(detail: EndpointStateChangeDetail) -> EndpointChange:
    status = _text(detail.endpoint_status, "EndpointStatus")
    return EndpointChange(
        endpoint_name=_text(detail.endpoint_name, "EndpointName"),
        # Unknown spellings pass through unchanged: they are simply not a status acted on.
        status=_BY_EVENT_SPELLING.get(status, status),
    )


def _end_request(request: Any, prefix: str) -> EndChallengerTest:
    action = request.get("action")
    if action != END_CHALLENGER_TEST:
        raise MalformedEvent(f"action is {action!r}, not {END_CHALLENGER_TEST!r}")
    winner = request.get("winner")
    if winner not in WINNERS:
        raise MalformedEvent(f"{prefix}winner is {winner!r}, not one of {', '.join(WINNERS)}")
    expected = request.get("challenger_package_arn")
    if expected is not None and not (isinstance(expected, str) and _MODEL_PACKAGE_ARN.match(expected)):
        raise MalformedEvent(f"{prefix}challenger_package_arn {expected!r} is not a model package version ARN")
    return EndChallengerTest(winner=winner, challenger_package_arn=expected)
