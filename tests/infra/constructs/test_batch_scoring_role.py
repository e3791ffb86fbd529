"""BatchScoringRole on its own (and ``packages_of``).

Props (all required): ``config`` (batch names and instance type), ``input_bucket_arn``,
``output_bucket_arn``, ``key_arn``, ``artifacts``, ``group_arns`` (malformed raises),
``image_repository``. Volumes get a key grant only on EBS instance types.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.batch_scoring_role import BatchScoringRole, packages_of
from tests.infra.constructs.conftest import (
    GROUP_ARN,
    KEY_ARN,
    arn_tail,
    assert_least_privilege,
    make_config,
    resources_for,
)


def build(stack, instance_type="ml.m5.xlarge", groups=(GROUP_ARN,)) -> Template:
    config = make_config(batch_scoring={"instance_type": instance_type})
    BatchScoringRole(
        stack,
        "Role",
        config=config,
        input_bucket_arn="arn:aws:s3:::in",
        output_bucket_arn="arn:aws:s3:::out",
        key_arn=KEY_ARN,
        artifacts=ArtifactSource.of(config),
        group_arns=list(groups),
        image_repository=("763104351884", "hf-inference"),
    )
    return Template.from_stack(stack)


def test_reads_inputs_writes_its_folder_and_names_its_jobs(stack):
    template = build(stack)
    assert_least_privilege(template)
    assert "arn:aws:s3:::in/*" in resources_for(template, "s3:GetObject")
    assert resources_for(template, "s3:PutObject") == ["arn:aws:s3:::out/demo-test-batch-scoring/*"]
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:CreateTransformJob")] == [
        ":sagemaker:us-east-1:123456789012:transform-job/demo-test-batch*"
    ]
    assert resources_for(template, "kms:CreateGrant") == [KEY_ARN]


def test_instance_storage_types_need_no_volume_grant(stack):
    assert resources_for(build(stack, instance_type="ml.g4dn.xlarge"), "kms:CreateGrant") == []


def test_packages_of_a_group():
    assert packages_of(GROUP_ARN) == "arn:aws:sagemaker:us-east-1:123456789012:model-package/demo-test-sentiment/*"


@pytest.mark.parametrize("arn", ["demo-test-sentiment", "arn:aws:sagemaker:us-east-1:123456789012:model-package/x/1"])
def test_a_malformed_group_arn_raises(stack, arn):
    with pytest.raises(ValueError, match="model package group ARN"):
        build(stack, groups=[arn])
