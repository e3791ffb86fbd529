"""Phase 2: the rollout is over; only the endpoint serving the expected config counts as a deployment."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.lambdas.matchers import Containing

ACCOUNT = "111111111111"
ENDPOINT = "roberta-sentiment-dev-sentiment"
ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/roberta-sentiment-dev-sentiment/3"
EXPECTED = f"{ENDPOINT}-v3-5f0c9a1e"
PREVIOUS = "EndpointConfig-9Xq2LmZk1Tb4"
SERVED = "/roberta-sentiment/dev/serving/model-package-arn"
PENDING = f"{SERVED}/pending"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:roberta-sentiment-dev-deployments"
NOW = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
ROLLBACK_REASON = "Rolled back: alarm roberta-sentiment-dev-sentiment-model-latency-p99 went to ALARM during baking."

STATE_CHANGE, DEPLOYMENT_STATE_CHANGE = "SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"


def endpoint_event(status: str = "IN_SERVICE", name: str = ENDPOINT, detail_type: str = STATE_CHANGE) -> dict:
    """An endpoint state change as the SageMaker developer guide documents it (status in upper snake case)."""
    return {
        "version": "0",
        "id": "d2921b5a-b0ad-cace-a8e3-0f159d018e06",
        "detail-type": detail_type,
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": "2026-11-23T12:30:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}"],
        "detail": {
            "EndpointName": name,
            "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}",
            "EndpointConfigName": EXPECTED,
            "ProductionVariants": [{"DesiredWeight": 1.0, "DesiredInstanceCount": 1.0}],
            "EndpointStatus": status,
            "CreationTime": 1763899200000.0,
            "LastModifiedTime": 1763901000000.0,
            "Tags": {},
        },
    }


def expect_pending(ssm) -> None:
    value = json.dumps(
        {
            "model_package_arn": ARN,
            "endpoint_config_name": EXPECTED,
            "previous_endpoint_config_name": PREVIOUS,
            "event_id": "844e2571",
        }
    )
    ssm.add_response(
        "get_parameter",
        {"Parameter": {"Name": PENDING, "Type": "String", "Value": value, "Version": 1}},
        {"Name": PENDING},
    )


def expect_endpoint(sm, status: str, config: str, reason: str | None = None) -> None:
    response = {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if reason:
        response["FailureReason"] = reason
    sm.add_response("describe_endpoint", response, {"EndpointName": ENDPOINT})


def expect_pending_cleared(ssm) -> None:
    ssm.add_response("delete_parameter", {}, {"Name": PENDING})


@pytest.mark.parametrize("detail_type", [STATE_CHANGE, DEPLOYMENT_STATE_CHANGE])
def test_endpoint_on_the_expected_config_records_the_served_package(deploy_model, lambda_context, detail_type):
    expect_pending(deploy_model.ssm)
    expect_endpoint(deploy_model.sagemaker, "InService", EXPECTED)
    deploy_model.ssm.add_response(
        "put_parameter", {"Version": 4}, {"Name": SERVED, "Value": ARN, "Type": "String", "Overwrite": True}
    )
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-1"},
        {
            "TopicArn": TOPIC,
            "Subject": Containing(ENDPOINT),
            "Message": Containing(ARN, EXPECTED, SERVED),
        },
    )
    expect_pending_cleared(deploy_model.ssm)
    result = deploy_model.handler.handler(endpoint_event(detail_type=detail_type), lambda_context)
    assert result == {"status": "verified", "package_arn": ARN, "endpoint_config": EXPECTED}


def test_a_silent_rollback_is_reported_as_a_failure_and_records_nothing(deploy_model, lambda_context):
    expect_pending(deploy_model.ssm)
    # What SageMaker leaves after an alarm-triggered rollback: InService, on the old config.
    expect_endpoint(deploy_model.sagemaker, "InService", PREVIOUS, reason=ROLLBACK_REASON)
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-2"},
        {
            "TopicArn": TOPIC,
            "Subject": Containing("FAILED", ENDPOINT),
            "Message": Containing(ARN, f"expected {EXPECTED}", f"endpoint config {PREVIOUS}", ROLLBACK_REASON),
        },
    )
    expect_pending_cleared(deploy_model.ssm)
    # No put_parameter is queued: writing the served parameter would fail the stubbed call.
    with pytest.raises(deploy_model.verify.DeploymentRolledBack, match="model-latency-p99"):
        deploy_model.handler.handler(endpoint_event(), lambda_context)


@pytest.mark.parametrize(
    ("event_status", "api_status"), [("FAILED", "Failed"), ("UPDATE_ROLLBACK_FAILED", "UpdateRollbackFailed")]
)
def test_a_failed_rollout_is_reported_as_a_failure(deploy_model, lambda_context, event_status, api_status):
    expect_pending(deploy_model.ssm)
    expect_endpoint(deploy_model.sagemaker, api_status, EXPECTED, reason="Container health check failed.")
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-3"},
        {
            "TopicArn": TOPIC,
            "Subject": Containing("FAILED"),
            "Message": Containing(ARN, api_status),
        },
    )
    expect_pending_cleared(deploy_model.ssm)
    with pytest.raises(deploy_model.verify.DeploymentRolledBack, match="Container health check failed"):
        deploy_model.handler.handler(endpoint_event(event_status), lambda_context)


def test_the_endpoint_deleted_during_the_rollout_is_a_failure(deploy_model, lambda_context):
    expect_pending(deploy_model.ssm)
    missing = f'Could not find endpoint "{ENDPOINT}".'
    deploy_model.sagemaker.add_client_error("describe_endpoint", "ValidationException", missing)
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-4"},
        {
            "TopicArn": TOPIC,
            "Subject": Containing("FAILED"),
            "Message": Containing(ARN, "Deleted"),
        },
    )
    expect_pending_cleared(deploy_model.ssm)
    with pytest.raises(deploy_model.verify.DeploymentRolledBack):
        deploy_model.handler.handler(endpoint_event(), lambda_context)


def test_a_late_in_service_event_while_the_rollout_goes_on_keeps_waiting(deploy_model, lambda_context):
    expect_pending(deploy_model.ssm)
    expect_endpoint(deploy_model.sagemaker, "Updating", PREVIOUS)
    assert deploy_model.handler.handler(endpoint_event(), lambda_context) == {"status": "pending", "package_arn": ARN}


def test_without_a_pending_deployment_the_event_is_ignored(deploy_model, lambda_context):
    # E.g. the second delivery of an event already verified, or a CloudFormation update.
    deploy_model.ssm.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": PENDING})
    result = deploy_model.handler.handler(endpoint_event(), lambda_context)
    assert result == {"status": "ignored", "reason": "no deployment pending"}


@pytest.mark.parametrize("status", ["UPDATING", "ROLLING_BACK", "CREATING", "SYSTEM_UPDATING"])
def test_progress_reports_are_ignored_without_an_aws_call(deploy_model, lambda_context, status):
    assert deploy_model.handler.handler(endpoint_event(status), lambda_context)["status"] == "ignored"


def test_other_endpoints_are_ignored_without_an_aws_call(deploy_model, lambda_context):
    result = deploy_model.handler.handler(endpoint_event(name="fraud-detector-dev"), lambda_context)
    assert result["status"] == "ignored" and "fraud-detector-dev" in result["reason"]
