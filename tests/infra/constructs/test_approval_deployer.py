"""ApprovalDeployer on its own.

Props (all required): ``config`` (endpoint, group and parameter names, removal policy),
``key``, ``topic``, ``model_role_arn`` (None until an endpoint exists: no PassRole at
all), ``lake_key_arn`` (grants only through SageMaker). Its function may update only this
environment's endpoint, with clones named after it, and describe only its group's packages.
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from infra.constructs.approval_deployer import ENDPOINT_STATE_CHANGE, ApprovalDeployer
from infra.constructs.pipeline_triggers import MODEL_PACKAGE_STATE_CHANGE
from tests.infra.constructs.conftest import (
    KEY_ARN,
    arn_tail,
    assert_least_privilege,
    lake_key,
    make_config,
    new_stack,
    resources_for,
    statements,
)

MODEL_ROLE = "arn:aws:iam::123456789012:role/demo-test-model"


def build(stack, model_role_arn):
    key = lake_key(stack)
    config = make_config()
    ApprovalDeployer(
        stack,
        "Deployer",
        config=config,
        key=key,
        topic=sns.Topic(stack, "Topic", master_key=key),
        model_role_arn=model_role_arn,
        lake_key_arn=KEY_ARN,
    )
    return config, Template.from_stack(stack)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(new_stack(tmp_path_factory.mktemp("deployer")), MODEL_ROLE)


def test_function_knows_its_endpoint_group_and_parameter(built):
    config, template = built
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "MODEL_PACKAGE_GROUP_NAME": "demo-test-sentiment",
                        "ENDPOINT_NAME": "demo-test-sentiment",
                        "SERVED_MODEL_PARAMETER": config.served_model_parameter,
                    }
                )
            }
        },
    )


def test_approved_packages_of_the_group_and_the_endpoints_changes_trigger_it(built):
    _, template = built
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                "detail": {"ModelPackageGroupName": ["demo-test-sentiment"], "ModelApprovalStatus": ["Approved"]},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": [ENDPOINT_STATE_CHANGE],
                "detail": {"EndpointName": ["demo-test-sentiment"]},
            }
        },
    )


def test_updates_only_its_endpoint_with_clones_named_after_it(built):
    _, template = built
    assert_least_privilege(template)
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:UpdateEndpoint")] == [
        ":sagemaker:us-east-1:123456789012:endpoint/demo-test-sentiment",
        ":sagemaker:us-east-1:123456789012:endpoint-config/demo-test-sentiment-v*",
    ]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:CreateModel")] == [
        ":sagemaker:us-east-1:123456789012:model/demo-test-sentiment-v*",
        ":sagemaker:us-east-1:123456789012:endpoint-config/demo-test-sentiment-v*",
    ]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:DescribeModelPackage")] == [
        ":sagemaker:us-east-1:123456789012:model-package/demo-test-sentiment/*"
    ]


def test_passes_only_the_model_role_to_sagemaker(built):
    _, template = built
    [passing] = [s for s in statements(template) if s["Action"] == "iam:PassRole"]
    assert passing["Resource"] == MODEL_ROLE
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_lake_key_grants_only_through_sagemaker(built):
    _, template = built
    [grant] = [s for s in statements(template) if s["Resource"] == KEY_ARN]
    assert grant["Condition"] == {"StringEquals": {"kms:ViaService": "sagemaker.us-east-1.amazonaws.com"}}


def test_without_a_model_role_nothing_is_passed(stack):
    _, template = build(stack, None)
    assert resources_for(template, "iam:PassRole") == []
