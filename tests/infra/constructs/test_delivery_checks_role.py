"""DeliveryChecksRole on its own.

Props (all required): ``config`` (the environment checked: its fixed role name, endpoint,
pipeline, parameter), ``delivery_account`` (the only principal), ``source`` (the
environment whose registry the served packages come from). Read-only, one-hour sessions.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from infra.constructs.delivery_checks_role import DeliveryChecksRole, delivery_checks_role_name
from tests.infra.constructs.conftest import (
    arn_tail,
    assert_least_privilege,
    make_config,
    new_stack,
    resources_for,
    statements,
)

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "InvokeEndpoint")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("checks"))
    config = make_config("staging")
    source = make_config("dev", account="210987654321", region="eu-west-1")
    DeliveryChecksRole(stack, "Checks", config=config, delivery_account="444444444444", source=source)
    return config, Template.from_stack(stack)


def test_fixed_name_assumed_by_the_delivery_account_for_an_hour(built):
    config, template = built
    assert delivery_checks_role_name(config) == "demo-staging-delivery-checks"
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "demo-staging-delivery-checks",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::444444444444:root"]]}
                        },
                    }
                ]
            },
        },
    )


def test_read_only(built):
    _, template = built
    assert_least_privilege(template)
    for statement in statements(template):
        for action in statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]:
            assert action.split(":")[1].startswith(READ_ONLY_PREFIXES), action


def test_scoped_to_its_endpoint_pipeline_parameter_and_the_sources_packages(built):
    _, template = built
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:InvokeEndpoint")] == [
        ":sagemaker:us-east-1:123456789012:endpoint/demo-staging-sentiment"
    ]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:DescribePipeline")] == [
        ":sagemaker:us-east-1:123456789012:pipeline/demo-staging-training"
    ]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:DescribeModelPackage")] == [
        ":sagemaker:eu-west-1:210987654321:model-package/demo-dev-sentiment/*"
    ]
    assert [arn_tail(a) for a in resources_for(template, "ssm:GetParameter")] == [
        ":ssm:us-east-1:123456789012:parameter/demo/staging/serving/model-package-arn"
    ]
    assert resources_for(template, "cloudformation:ListExports") == ["*"]  # no resource scope exists
