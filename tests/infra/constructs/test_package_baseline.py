"""PackageBaseline (opt-in Model Monitor engine) on its own.

Props (all required): ``model_package_arn`` (the one package it may describe),
``key`` (its log group), ``removal_policy`` (of the log group). No code of ours runs: a
DescribeModelPackage SDK call re-read whenever the package changes.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.package_baseline import PackageBaseline
from tests.infra.constructs.conftest import PACKAGE_ARN, lake_key, new_stack, resources_for


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("baseline"))
    baseline = PackageBaseline(
        stack, "Baseline", model_package_arn=PACKAGE_ARN, key=lake_key(stack), removal_policy=cdk.RemovalPolicy.DESTROY
    )
    return baseline, Template.from_stack(stack)


def test_describes_only_the_package_and_rereads_on_change(built):
    _, template = built
    [resource] = template.find_resources("Custom::AWS").values()
    create = json.dumps(resource["Properties"]["Create"])
    assert "describeModelPackage" in create and PACKAGE_ARN in create
    assert resources_for(template, "sagemaker:DescribeModelPackage") == [PACKAGE_ARN]


def test_its_log_group_is_encrypted_and_retained_three_months(built):
    _, template = built
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "DeletionPolicy": "Delete",
            "Properties": {"RetentionInDays": 90, "KmsKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}},
        },
    )
    roles = template.find_resources("AWS::IAM::Role")
    assert all("ManagedPolicyArns" not in r["Properties"] for r in roles.values())


def test_exposes_the_statistics_and_constraints_uris(built):
    baseline, _ = built
    stack = cdk.Stack.of(baseline)
    for uri, field in ((baseline.statistics_uri, "Statistics"), (baseline.constraints_uri, "Constraints")):
        assert stack.resolve(uri)["Fn::GetAtt"][1] == f"DriftCheckBaselines.ModelDataQuality.{field}.S3Uri"


def test_scanner_findings_on_cdks_provider_are_acknowledged_with_reasons(built):
    _, template = built
    [provider] = template.find_resources("AWS::Lambda::Function").values()
    assert "Variables" not in provider["Properties"].get("Environment", {})  # nothing to encrypt (CKV_AWS_173)
    metadata = provider["Metadata"]
    checkov = {e["id"]: e["comment"] for e in metadata["checkov"]["skip"]}
    cfn_nag = {e["id"]: e["reason"] for e in metadata["cfn_nag"]["rules_to_suppress"]}
    assert set(checkov) == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    assert set(cfn_nag) == {"W58", "W89", "W92"}
    assert all(reason.strip() for reason in [*checkov.values(), *cfn_nag.values()])
    assert metadata["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}}
