"""Phase 1: an Approved package of our group starts a blue/green update cloned from CloudFormation's config."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from tests.lambdas.matchers import Containing

ACCOUNT = "111111111111"
GROUP = "roberta-sentiment-dev-sentiment"
ENDPOINT = "roberta-sentiment-dev-sentiment"
ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{GROUP}/3"
SERVED_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{GROUP}/2"
# What CloudFormation named the resources it created (generated names).
OLD_CONFIG = "EndpointConfig-9Xq2LmZk1Tb4"
OLD_MODEL = "Model-4fHk2Pq8ZrTa"
# The naming rule restated: <endpoint>-v<version>-<first 8 hex of sha256(package ARN)>.
NEW = f"{ENDPOINT}-v3-{hashlib.sha256(ARN.encode()).hexdigest()[:8]}"
PENDING = "/roberta-sentiment/dev/serving/model-package-arn/pending"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:roberta-sentiment-dev-deployments"
EVENT_ID = "844e2571-85d4-695f-b930-0153b71dcb42"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/roberta-sentiment-dev-ModelRole"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": f"s3://roberta-sentiment-dev-capture-{ACCOUNT}/data-capture",
    "KmsKeyId": KEY,
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {
        "JsonContentTypes": ["application/json", "application/jsonlines"],
        "CsvContentTypes": ["text/csv"],
    },
}
ENVIRONMENT = {"MAX_TEXTS_PER_REQUEST": "64", "MAX_CHARS_PER_TEXT": "5000"}
STACK_TAG = {"Key": "aws:cloudformation:stack-name", "Value": "dev-Serving"}
PROJECT_TAG = {"Key": "project", "Value": "roberta-sentiment"}
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.6.0-transformers4.51.3-gpu-py312"


class JsonOf:
    """Equal to a JSON document that decodes to ``expected``."""

    def __init__(self, expected: dict):
        self.expected = expected

    def __eq__(self, other):
        return isinstance(other, str) and json.loads(other) == self.expected

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return f"JsonOf({self.expected!r})"


def approval_event(status: str = "Approved", group: str = GROUP, arn: str = ARN, version: int = 3) -> dict:
    """A "SageMaker Model Package State Change" event as the SageMaker developer guide documents it."""
    return {
        "version": "0",
        "id": EVENT_ID,
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": "2026-11-23T12:00:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": arn,
            "CreationTime": "2026-11-23T11:00:00Z",
            "InferenceSpecification": {
                "Containers": [
                    {
                        "Image": IMAGE,
                        "ModelDataUrl": f"s3://roberta-sentiment-dev-artifacts-{ACCOUNT}/training/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "CertifyForMarketplace": False,
            "ModelApprovalStatus": status,
            "LastModifiedTime": "2026-11-23T12:00:00Z",
        },
    }


def expect_package(sm, *, group: str = GROUP, status: str = "Approved") -> None:
    sm.add_response(
        "describe_model_package",
        {
            "ModelPackageName": group,
            "ModelPackageGroupName": group,
            "ModelPackageVersion": 3,
            "ModelPackageArn": ARN,
            "CreationTime": NOW,
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "ModelApprovalStatus": status,
        },
        {"ModelPackageName": ARN},
    )


def expect_endpoint(sm, status: str = "InService", rolling_out: str | None = None) -> None:
    response = {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}",
        "EndpointConfigName": OLD_CONFIG,
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }
    if rolling_out:
        response["PendingDeploymentSummary"] = {"EndpointConfigName": rolling_out, "StartTime": NOW}
    sm.add_response("describe_endpoint", response, {"EndpointName": ENDPOINT})


def expect_current_model(sm, serves: str = SERVED_ARN) -> None:
    """CloudFormation's config and model, described as SageMaker returns them."""
    sm.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": OLD_CONFIG,
            "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": OLD_MODEL,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.xlarge",
                    "InitialVariantWeight": 1.0,
                }
            ],
            "DataCaptureConfig": CAPTURE,
            "KmsKeyId": KEY,
            "CreationTime": NOW,
        },
        {"EndpointConfigName": OLD_CONFIG},
    )
    sm.add_response(
        "describe_model",
        {
            "ModelName": OLD_MODEL,
            "ModelArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{OLD_MODEL.lower()}",
            "CreationTime": NOW,
            "ExecutionRoleArn": ROLE,
            "EnableNetworkIsolation": False,
            "Containers": [
                {
                    "Image": IMAGE,
                    "ModelDataUrl": "s3://old/model.tar.gz",
                    "Mode": "SingleModel",
                    "Environment": ENVIRONMENT,
                    "ModelPackageName": serves,
                }
            ],
        },
        {"ModelName": OLD_MODEL},
    )


def expect_clone(sm, *, exists: bool = False) -> None:
    """The requests stated in full: only the model package (and the names) differ from CloudFormation's."""
    sm.add_response(
        "list_tags",
        {"Tags": [STACK_TAG, PROJECT_TAG]},
        {"ResourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{OLD_MODEL.lower()}"},
    )
    model_request = {
        "ModelName": NEW,
        "ExecutionRoleArn": ROLE,
        "EnableNetworkIsolation": False,
        "Containers": [{"Mode": "SingleModel", "Environment": ENVIRONMENT, "ModelPackageName": ARN}],
        "Tags": [PROJECT_TAG],
    }
    config_request = {
        "EndpointConfigName": NEW,
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": NEW,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "InitialVariantWeight": 1.0,
            }
        ],
        "DataCaptureConfig": CAPTURE,
        "KmsKeyId": KEY,
        "Tags": [PROJECT_TAG],
    }
    config_tags = {"ResourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}"}
    model_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{NEW}"
    config_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{NEW}"
    if exists:
        exists_message = f'Cannot create already existing model "{model_arn}".'
        sm.add_client_error("create_model", "ValidationException", exists_message, expected_params=model_request)
        sm.add_response("list_tags", {"Tags": [STACK_TAG, PROJECT_TAG]}, config_tags)
        sm.add_client_error(
            "create_endpoint_config",
            "ValidationException",
            f'Cannot create already existing endpoint configuration "{config_arn}".',
            expected_params=config_request,
        )
    else:
        sm.add_response("create_model", {"ModelArn": model_arn}, model_request)
        sm.add_response("list_tags", {"Tags": [STACK_TAG, PROJECT_TAG]}, config_tags)
        sm.add_response("create_endpoint_config", {"EndpointConfigArn": config_arn}, config_request)


def expect_update(sm) -> None:
    sm.add_response(
        "update_endpoint",
        {"EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}"},
        {"EndpointName": ENDPOINT, "EndpointConfigName": NEW, "RetainDeploymentConfig": True},
    )


def expect_pending_recorded(ssm) -> None:
    record = {
        "model_package_arn": ARN,
        "endpoint_config_name": NEW,
        "previous_endpoint_config_name": OLD_CONFIG,
        "event_id": EVENT_ID,
    }
    ssm.add_response(
        "put_parameter", {"Version": 1}, {"Name": PENDING, "Value": JsonOf(record), "Type": "String", "Overwrite": True}
    )


def pending_record(arn: str = ARN, config: str = NEW) -> dict:
    value = json.dumps(
        {
            "model_package_arn": arn,
            "endpoint_config_name": config,
            "previous_endpoint_config_name": OLD_CONFIG,
            "event_id": "earlier",
        }
    )
    return {"Parameter": {"Name": PENDING, "Type": "String", "Value": value, "Version": 1}}


def test_approval_updates_the_endpoint_to_a_clone_with_the_new_package(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker)
    expect_current_model(deploy_model.sagemaker)
    expect_clone(deploy_model.sagemaker)
    expect_update(deploy_model.sagemaker)
    expect_pending_recorded(deploy_model.ssm)
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {
        "status": "deployed-started",
        "package_arn": ARN,
        "endpoint_config": NEW,
        "previous_endpoint_config": OLD_CONFIG,
    }


def test_a_retry_reuses_the_model_and_config_its_first_attempt_created(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker)
    expect_current_model(deploy_model.sagemaker)
    expect_clone(deploy_model.sagemaker, exists=True)
    expect_update(deploy_model.sagemaker)
    expect_pending_recorded(deploy_model.ssm)
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "deployed-started"


@pytest.mark.parametrize("status", ["Rejected", "PendingManualApproval"])
def test_anything_but_approved_is_ignored_without_an_aws_call(deploy_model, lambda_context, status):
    result = deploy_model.handler.handler(approval_event(status=status), lambda_context)
    assert result == {"status": "ignored", "reason": f"approval status is {status}"}


def test_an_approval_in_another_group_is_ignored_without_an_aws_call(deploy_model, lambda_context):
    other = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/fraud-detector/7"
    result = deploy_model.handler.handler(approval_event(group="fraud-detector", arn=other), lambda_context)
    assert result["status"] == "ignored" and "fraud-detector" in result["reason"]


def test_an_event_naming_our_group_for_another_groups_package_is_refused(deploy_model, lambda_context, caplog):
    expect_package(deploy_model.sagemaker, group="fraud-detector")
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result["status"] == "refused" and "fraud-detector" in result["reason"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["registry disagrees with the event, refused"]


def test_a_stale_approval_of_a_package_rejected_since_is_refused(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker, status="Rejected")
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {"status": "refused", "reason": "registry approval status is Rejected"}


def test_a_package_the_role_may_not_read_is_refused(deploy_model, lambda_context):
    deploy_model.sagemaker.add_client_error("describe_model_package", "AccessDeniedException", "not authorized", 400)
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "refused"


def test_a_redelivered_approval_of_the_served_package_changes_nothing(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker)
    expect_current_model(deploy_model.sagemaker, serves=ARN)
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {"status": "already-serving", "package_arn": ARN, "endpoint_config": OLD_CONFIG}


def test_a_redelivered_approval_during_its_own_rollout_changes_nothing(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker, status="Updating", rolling_out=NEW)
    deploy_model.ssm.add_response("get_parameter", pending_record(), {"Name": PENDING})
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {"status": "pending", "package_arn": ARN, "endpoint_config": NEW}


def test_a_rollout_started_but_not_recorded_is_recorded_by_the_retry(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker, status="Updating", rolling_out=NEW)
    deploy_model.ssm.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": PENDING})
    expect_pending_recorded(deploy_model.ssm)
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "pending"


def test_an_endpoint_busy_with_another_rollout_raises_so_lambda_retries(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker, status="Updating", rolling_out=f"{ENDPOINT}-v2-0badcafe")
    deploy_model.ssm.add_response("get_parameter", pending_record(arn=SERVED_ARN, config=f"{ENDPOINT}-v2-0badcafe"))
    with pytest.raises(deploy_model.deploy.EndpointBusy, match="Updating"):
        deploy_model.handler.handler(approval_event(), lambda_context)


def test_without_an_endpoint_the_topic_says_how_to_create_it(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    deploy_model.sagemaker.add_client_error(
        "describe_endpoint",
        "ValidationException",
        f'Could not find endpoint "{ENDPOINT}".',
        400,
        expected_params={"EndpointName": ENDPOINT},
    )
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-1"},
        {
            "TopicArn": TOPIC,
            "Subject": Containing(ENDPOINT),
            "Message": Containing(ARN, f"-c mlops.model_package_arn.dev={ARN}"),
        },
    )
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {"status": "no-endpoint", "package_arn": ARN}


def test_a_failed_endpoint_is_reported_not_updated(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker, status="Failed")
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-2"},
        {
            "TopicArn": TOPIC,
            "Subject": Containing("Failed"),
            "Message": Containing(ARN, "Failed"),
        },
    )
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "endpoint-unusable"


def test_an_update_sagemaker_refuses_raises_and_records_no_pending_deployment(deploy_model, lambda_context):
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker)
    expect_current_model(deploy_model.sagemaker)
    expect_clone(deploy_model.sagemaker)
    deploy_model.sagemaker.add_client_error("update_endpoint", "ThrottlingException", "Rate exceeded", 400)
    with pytest.raises(Exception, match="ThrottlingException"):
        deploy_model.handler.handler(approval_event(), lambda_context)
