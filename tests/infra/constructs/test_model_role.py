"""ModelExecutionRole on its own.

Props (all required): ``endpoint_name`` (its log group), ``artifacts`` (read training
artifacts only), ``capture_prefix_arn`` (PutObject there only), ``key_arn``
(GenerateDataKey only: capture is written, never read), ``ecr_repositories``.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.model_role import ModelExecutionRole
from tests.infra.constructs.conftest import (
    KEY_ARN,
    actions_of,
    arn_tail,
    assert_least_privilege,
    make_config,
    new_stack,
    resources_for,
)

CAPTURE = "arn:aws:s3:::demo-test-monitoring/datacapture/*"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("model-role"))
    ModelExecutionRole(
        stack,
        "ModelRole",
        endpoint_name="demo-test-sentiment",
        artifacts=ArtifactSource.of(make_config()),
        capture_prefix_arn=CAPTURE,
        key_arn=KEY_ARN,
        ecr_repositories=frozenset({("763104351884", "hf-inference")}),
    )
    return Template.from_stack(stack)


def test_sagemaker_assumes_it_and_it_grants_only_serving_needs(template):
    assert_least_privilege(template)
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
                ]
            }
        },
    )
    assert actions_of(template) == {
        "s3:GetObject",
        "s3:PutObject",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetAuthorizationToken",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "cloudwatch:PutMetricData",
    }


def test_writes_capture_only_and_reads_training_artifacts_only(template):
    assert resources_for(template, "s3:PutObject") == [CAPTURE]
    assert [arn_tail(a) for a in resources_for(template, "s3:GetObject")] == [
        ":s3:::demo-test-models-123456789012/training/*"
    ]
    assert resources_for(template, "kms:GenerateDataKey") == [KEY_ARN]


def test_logs_to_its_endpoints_log_group(template):
    assert [arn_tail(a) for a in resources_for(template, "logs:PutLogEvents")] == [
        ":logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/demo-test-sentiment:*"
    ]
