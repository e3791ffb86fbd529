"""Event parsing, names and cloning rules of the deploy_model function, and malformed events dropped."""

from __future__ import annotations

import copy
import re

import pytest

ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/3"
APPROVAL = {
    "version": "0",
    "id": "844e2571-85d4-695f-b930-0153b71dcb42",
    "detail-type": "SageMaker Model Package State Change",
    "source": "aws.sagemaker",
    "account": "111111111111",
    "time": "2026-11-23T12:00:00Z",
    "region": "us-east-1",
    "resources": [ARN],
    "detail": {
        "ModelPackageGroupName": "roberta-sentiment-dev-sentiment",
        "ModelPackageVersion": 3,
        "ModelPackageArn": ARN,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "Approved",
    },
}
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")  # CreateModel's ModelName pattern


def _without(path: str) -> dict:
    event = copy.deepcopy(APPROVAL)
    *parents, leaf = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    del target[leaf]
    return event


def _with(path: str, value) -> dict:
    event = copy.deepcopy(APPROVAL)
    *parents, leaf = path.split(".")
    target = event
    for key in parents:
        target = target[key]
    target[leaf] = value
    return event


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (_without("detail"), "detail is NoneType"),
        (_with("detail", None), "detail is NoneType"),
        (_with("detail", "Approved"), "detail is str"),
        (_without("detail-type"), "unexpected detail-type None"),
        (_with("detail-type", "SageMaker Model Card State Change"), "unexpected detail-type"),
        (_with("source", "custom.forged"), "source is 'custom.forged'"),
        (_without("detail.ModelPackageArn"), "detail.ModelPackageArn is None"),
        (_with("detail.ModelPackageArn", 3), "detail.ModelPackageArn is 3"),
        (_with("detail.ModelPackageArn", "roberta-sentiment-dev-sentiment/3"), "is not a model package ARN"),
        (_with("detail.ModelPackageVersion", "3"), "detail.ModelPackageVersion is '3'"),
        (_with("detail.ModelApprovalStatus", ["Approved"]), "detail.ModelApprovalStatus is ['Approved']"),
        (_without("detail.ModelPackageGroupName"), "detail.ModelPackageGroupName is None"),
        (_with("detail-type", "SageMaker Endpoint State Change"), "detail.EndpointStatus is None"),
    ],
)
def test_malformed_events_are_logged_and_dropped_without_an_aws_call(
    deploy_model, lambda_context, caplog, event, reason
):
    result = deploy_model.handler.handler(event, lambda_context)
    assert result["status"] == "malformed" and reason in result["reason"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warnings] == ["malformed event dropped"]
    assert warnings[0].event_id == event.get("id")


@pytest.mark.parametrize(
    ("spelling", "status"),
    [
        ("IN_SERVICE", "InService"),
        ("UPDATE_ROLLBACK_FAILED", "UpdateRollbackFailed"),
        ("OUT_OF_SERVICE", "OutOfService"),
        ("InService", "InService"),
        ("SOMETHING_NEW", "SOMETHING_NEW"),
    ],
)
def test_endpoint_statuses_are_read_in_describe_endpoints_spelling(deploy_model, spelling, status):
    events = deploy_model.events
    event = {
        "source": "aws.sagemaker",
        "detail-type": events.ENDPOINT_STATE_CHANGE,
        "detail": {"EndpointName": "e", "EndpointStatus": spelling},
    }
    assert events.parse(events.EventBridgeEvent(event)) == events.EndpointChange("e", status)


def test_deployment_names_are_valid_deterministic_and_distinct(deploy_model):
    name = deploy_model.names.deployment_name
    first = name("roberta-sentiment-dev-sentiment", 3, ARN)
    assert first == name("roberta-sentiment-dev-sentiment", 3, ARN)
    assert first.startswith("roberta-sentiment-dev-sentiment-v3-") and SAGEMAKER_NAME.match(first)
    assert name("roberta-sentiment-dev-sentiment", 3, ARN.replace("us-east-1", "eu-west-1")) != first
    long = name("a-very-long-endpoint-name-" + "x" * 40 + "-y", 12345, ARN)
    assert len(long) == 63 and SAGEMAKER_NAME.match(long) and long.endswith("-v12345-" + first[-8:])
    assert SAGEMAKER_NAME.match(name("ends-with-hyphen-at-the-cut" + "-" * 60, 1, ARN))


def test_a_gpu_config_without_a_volume_key_is_cloned_without_one(deploy_model):
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 2}
    config = {"EndpointConfigName": "c", "ProductionVariants": [variant], "DataCaptureConfig": {"EnableCapture": False}}
    request = deploy_model.clone.endpoint_config_request(config, "new", "new-model", [])
    assert request == {
        "EndpointConfigName": "new",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": "new-model",
                "InstanceType": "ml.g5.xlarge",
                "InitialInstanceCount": 2,
            }
        ],
        "DataCaptureConfig": {"EnableCapture": False},
    }


def test_a_primary_container_model_is_cloned_as_one_without_the_old_artifact(deploy_model):
    model = {
        "ModelName": "m",
        "ExecutionRoleArn": "role",
        "VpcConfig": {"Subnets": ["s"], "SecurityGroupIds": ["g"]},
        "PrimaryContainer": {
            "Image": "old-image",
            "ModelDataUrl": "s3://old",
            "Environment": {"A": "1"},
            "ModelPackageName": "old-arn",
        },
    }
    assert deploy_model.clone.model_request(model, "new", ARN, []) == {
        "ModelName": "new",
        "ExecutionRoleArn": "role",
        "VpcConfig": {"Subnets": ["s"], "SecurityGroupIds": ["g"]},
        "PrimaryContainer": {"Environment": {"A": "1"}, "ModelPackageName": ARN},
    }


def test_endpoints_of_another_shape_are_refused_rather_than_half_cloned(deploy_model):
    clone = deploy_model.clone
    two = {"EndpointConfigName": "c", "ProductionVariants": [{"VariantName": "A"}, {"VariantName": "B"}]}
    with pytest.raises(clone.UnsupportedEndpoint, match="2 production variants"):
        clone.endpoint_config_request(two, "n", "m", [])
    with pytest.raises(clone.UnsupportedEndpoint, match="2 containers"):
        clone.model_request({"ModelName": "m", "Containers": [{}, {}]}, "n", ARN, [])


def test_cloudformation_tags_are_not_copied(deploy_model):
    tags = [{"Key": "aws:cloudformation:stack-id", "Value": "x"}, {"Key": "project", "Value": "roberta-sentiment"}]
    assert deploy_model.clone.user_tags(tags) == [{"Key": "project", "Value": "roberta-sentiment"}]


def test_a_missing_environment_variable_fails_every_invocation_by_name(deploy_model, lambda_context, monkeypatch):
    monkeypatch.delenv("SERVED_MODEL_PARAMETER")
    with pytest.raises(RuntimeError, match="SERVED_MODEL_PARAMETER"):
        deploy_model.handler.handler(APPROVAL, lambda_context)
