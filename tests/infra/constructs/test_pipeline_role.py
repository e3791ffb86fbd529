"""PipelineExecutionRole on its own.

Props: ``resources`` (PipelineResources, all fields required): the buckets, key, code
object, feature group, model package group, pipeline name and image repositories the role
is scoped to. Reads any raw dataset; writes only under ``<features>/<pipeline>/`` and the
models bucket's training/checkpoints/baselines prefixes; reads its base-models/ prefix (the
staged base model); jobs named ``pipelines-*`` only.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from infra.constructs.pipeline_role import PipelineExecutionRole, PipelineResources
from tests.infra.constructs.conftest import (
    KEY_ARN,
    arn_tail,
    assert_least_privilege,
    new_stack,
    resources_for,
    statements,
)

RESOURCES = PipelineResources(
    raw_bucket_arn="arn:aws:s3:::raw",
    features_bucket_arn="arn:aws:s3:::features",
    models_bucket_arn="arn:aws:s3:::models",
    key_arn=KEY_ARN,
    code_object_arn="arn:aws:s3:::assets/code.tar.gz",
    feature_group_name="demo-test-reviews",
    model_package_group_name="demo-test-sentiment",
    pipeline_name="demo-test-training",
    ecr_repositories=frozenset({("763104351884", "hf-training")}),
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("pipeline-role"))
    PipelineExecutionRole(stack, "Execution", resources=RESOURCES)
    return Template.from_stack(stack)


def test_no_wildcard_actions(template):
    assert_least_privilege(template)


def test_reads_raw_and_the_code_object_writes_only_its_prefixes(template):
    reads = resources_for(template, "s3:GetObject")
    assert {"arn:aws:s3:::raw/*", "arn:aws:s3:::assets/code.tar.gz"} <= set(reads)
    assert sorted(resources_for(template, "s3:PutObject")) == [
        "arn:aws:s3:::features/demo-test-training/*",
        "arn:aws:s3:::models/baselines/*",
        "arn:aws:s3:::models/checkpoints/*",
        "arn:aws:s3:::models/training/*",
    ]
    assert "arn:aws:s3:::raw/*" not in resources_for(template, "s3:PutObject")


def test_reads_staged_base_models_without_writing_them(template):
    assert "arn:aws:s3:::models/base-models/*" in resources_for(template, "s3:GetObject")
    assert "arn:aws:s3:::models/base-models/*" not in resources_for(template, "s3:PutObject")


def test_jobs_packages_and_feature_group_are_its_own(template):
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:CreateTrainingJob")] == [
        ":sagemaker:us-east-1:123456789012:processing-job/pipelines-*",
        ":sagemaker:us-east-1:123456789012:training-job/pipelines-*",
    ]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:CreateModelPackage")] == [
        ":sagemaker:us-east-1:123456789012:model-package/demo-test-sentiment/*",
        ":sagemaker:us-east-1:123456789012:model-package-group/demo-test-sentiment",
    ]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:PutRecord")] == [
        ":sagemaker:us-east-1:123456789012:feature-group/demo-test-reviews"
    ]
    assert resources_for(template, "kms:CreateGrant") == [KEY_ARN]


def test_passes_only_itself_to_sagemaker(template):
    [passing] = [s for s in statements(template) if s["Action"] == "iam:PassRole"]
    assert passing["Resource"] == {"Fn::GetAtt": [passing["Resource"]["Fn::GetAtt"][0], "Arn"]}
    assert passing["Resource"]["Fn::GetAtt"][0] in template.find_resources("AWS::IAM::Role")
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
