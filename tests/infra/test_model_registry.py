"""The model package group lives with the stateful resources and is readable by promotion accounts."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture


@pytest.mark.parametrize(("env", "readers"), [("dev", ["222222222222", "333333333333"])])
def test_group_policy_lets_the_later_environments_read_packages(templates, env, readers):
    policy = Capture()
    templates[env, "data"].has_resource_properties(
        "AWS::SageMaker::ModelPackageGroup",
        {"ModelPackageGroupName": f"roberta-sentiment-{env}-sentiment", "ModelPackageGroupPolicy": policy},
    )
    statements = {s["Sid"]: s for s in policy.as_object()["Statement"]}
    for statement in statements.values():
        principals = statement["Principal"]["AWS"]
        assert [p["Fn::Join"][1][-1] for p in principals] == [f":iam::{account}:root" for account in readers]
    assert statements["PromotionAccountsReadPackages"]["Action"] == [
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    ]
    assert all("Update" not in a and "Approve" not in a for s in statements.values() for a in s["Action"])


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_promoted_environments_share_nothing_and_retain_their_group(templates, env):
    # Every environment serves packages of dev's registry; the later ones' groups are not read.
    groups = templates[env, "data"].find_resources("AWS::SageMaker::ModelPackageGroup")
    (group,) = groups.values()
    assert "ModelPackageGroupPolicy" not in group["Properties"]
    assert group["DeletionPolicy"] == "Retain"
