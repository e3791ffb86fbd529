"""SentimentEndpoint on its own.

Props (all required): ``endpoint_name``, ``config`` (ServingConfig: the package, instance
type and count, capture percentage, request limits, rollout), ``role_arn``, ``capture_uri``,
``key_arn``, ``rollback_alarm_names`` (1 to 10). No package to serve or no rollback alarm
raises. Secure defaults: captured data and (EBS instance types) volumes under the key;
blue/green updates that roll back on the alarms.
"""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.sentiment_endpoint import CSV_CONTENT_TYPES, JSON_CONTENT_TYPES, VARIANT, SentimentEndpoint
from ml_code.inference import MAX_CHARS_ENV, MAX_TEXTS_ENV
from tests.infra.constructs.conftest import KEY_ARN, PACKAGE_ARN, make_config, new_stack

ROLE = "arn:aws:iam::123456789012:role/demo-test-model"
CAPTURE = "s3://demo-test-monitoring/datacapture"
SERVING = make_config().serving


def build(stack, serving=SERVING, alarms=("demo-5xx", "demo-latency")) -> Template:
    SentimentEndpoint(
        stack,
        "Endpoint",
        endpoint_name="demo-test-sentiment",
        config=serving,
        role_arn=ROLE,
        capture_uri=CAPTURE,
        key_arn=KEY_ARN,
        rollback_alarm_names=list(alarms),
    )
    return Template.from_stack(stack)


def rollout(**changes):
    return dataclasses.replace(SERVING, rollout=dataclasses.replace(SERVING.rollout, **changes))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build(new_stack(tmp_path_factory.mktemp("endpoint")))


def test_model_serves_the_package_with_its_request_limits(template):
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "ExecutionRoleArn": ROLE,
            "Containers": [
                {"ModelPackageName": PACKAGE_ARN, "Environment": {MAX_TEXTS_ENV: "16", MAX_CHARS_ENV: "2000"}}
            ],
        },
    )


def test_config_captures_under_the_key_and_encrypts_ebs_volumes(template):
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "KmsKeyId": KEY_ARN,
            "ProductionVariants": [
                Match.object_like({"VariantName": VARIANT, "InstanceType": "ml.m5.xlarge", "InitialInstanceCount": 2})
            ],
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 40,
                "DestinationS3Uri": CAPTURE,
                "KmsKeyId": KEY_ARN,
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {
                    "JsonContentTypes": JSON_CONTENT_TYPES,
                    "CsvContentTypes": CSV_CONTENT_TYPES,
                },
            },
        },
    )


def test_instance_storage_types_take_no_volume_key_but_capture_stays_encrypted(stack):
    template = build(stack, serving=dataclasses.replace(SERVING, instance_type="ml.g5.xlarge"))
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {"KmsKeyId": Match.absent(), "DataCaptureConfig": Match.object_like({"KmsKeyId": KEY_ARN})},
    )


def test_canary_rollout_rolls_back_on_the_alarms(template):
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "EndpointName": "demo-test-sentiment",
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": {
                        "Type": "CANARY",
                        "WaitIntervalInSeconds": 120,
                        "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                    },
                    "TerminationWaitInSeconds": 60,
                    "MaximumExecutionTimeoutInSeconds": 1800 + 120 * 5,
                },
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "demo-5xx"}, {"AlarmName": "demo-latency"}]},
            },
        },
    )


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (
            "linear",
            {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 120,
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            },
        ),
        ("all_at_once", {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 120}),
    ],
)
def test_other_rollout_strategies(stack, strategy, expected):
    template = build(stack, serving=rollout(strategy=strategy))
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {"BlueGreenUpdatePolicy": Match.object_like({"TrafficRoutingConfiguration": expected})}
            )
        },
    )


def test_rollout_timeout_is_capped_at_sagemakers_maximum(stack):
    template = build(stack, serving=rollout(step_percent=1, wait_seconds=3600))
    template.has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {"BlueGreenUpdatePolicy": Match.object_like({"MaximumExecutionTimeoutInSeconds": 28800})}
            )
        },
    )


def test_no_package_raises(stack):
    with pytest.raises(ValueError, match="model_package_arn"):
        build(stack, serving=dataclasses.replace(SERVING, model_package_arn=None))


@pytest.mark.parametrize("count", [0, 11])
def test_rollback_alarm_count_outside_sagemakers_range_raises(stack, count):
    with pytest.raises(ValueError, match="rollback_alarm_names"):
        build(stack, alarms=[f"alarm-{i}" for i in range(count)])
