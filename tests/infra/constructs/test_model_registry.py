"""ModelRegistry on its own.

Props (all required): ``group_name``, ``reader_accounts`` (may be empty: no resource
policy), ``removal_policy``. Readers may only describe and list, never approve.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.model_registry import ModelRegistry


def build(stack, readers=(), removal_policy=cdk.RemovalPolicy.RETAIN) -> Template:
    registry = ModelRegistry(
        stack, "Registry", group_name="demo-test-sentiment", reader_accounts=readers, removal_policy=removal_policy
    )
    assert registry.group_name == "demo-test-sentiment"
    assert stack.resolve(registry.group_arn)["Fn::Join"][1][-1].endswith(
        ":123456789012:model-package-group/demo-test-sentiment"
    )
    return Template.from_stack(stack)


def test_without_readers_there_is_no_resource_policy(stack):
    template = build(stack)
    template.has_resource_properties(
        "AWS::SageMaker::ModelPackageGroup",
        {"ModelPackageGroupName": "demo-test-sentiment", "ModelPackageGroupPolicy": Match.absent()},
    )


def test_readers_may_describe_and_list_only(stack):
    template = build(stack, readers=("222222222222", "333333333333"))
    [group] = template.find_resources("AWS::SageMaker::ModelPackageGroup").values()
    statements = group["Properties"]["ModelPackageGroupPolicy"]["Statement"]
    actions = {a for s in statements for a in s["Action"]}
    assert actions == {
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    }
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert len(statement["Principal"]["AWS"]) == 2
        readers = [p["Fn::Join"][1][-1] for p in statement["Principal"]["AWS"]]
        assert readers == [":iam::222222222222:root", ":iam::333333333333:root"]


@pytest.mark.parametrize(
    ("policy", "expected"), [(cdk.RemovalPolicy.RETAIN, "Retain"), (cdk.RemovalPolicy.DESTROY, "Delete")]
)
def test_removal_policy(stack, policy, expected):
    template = build(stack, removal_policy=policy)
    template.has_resource("AWS::SageMaker::ModelPackageGroup", {"DeletionPolicy": expected})
