"""DriftMonitorRole on its own.

Props (all required): ``access`` (MonitorAccess: what it reads, writes, resolves and
publishes; ``ground_truth_arn`` optional: None reads no ground truth) and ``artifacts``
(baselines only). A malformed group ARN raises.
"""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk.assertions import Template

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.drift_monitor_role import DriftMonitorRole, MonitorAccess
from tests.infra.constructs.conftest import (
    GROUP_ARN,
    KEY_ARN,
    arn_tail,
    assert_least_privilege,
    make_config,
    new_stack,
    resources_for,
    statements,
)

ACCESS = MonitorAccess(
    pipeline_name="demo-test-monitor",
    job_prefix="demo-test-monitor",
    bucket_arns=["arn:aws:s3:::mon"],
    capture_arn="arn:aws:s3:::mon/datacapture/demo-test-sentiment/*",
    reports_arn="arn:aws:s3:::mon/reports/demo-test-sentiment/*",
    ground_truth_arn=None,
    key_arn=KEY_ARN,
    served_parameter="/demo/test/serving/model-package-arn",
    group_arns=[GROUP_ARN],
    metric_namespace="demo/Monitoring",
    image_repository=("123456789012", "monitor-image"),
)


def build(stack, access=ACCESS) -> Template:
    DriftMonitorRole(stack, "Role", access=access, artifacts=ArtifactSource.of(make_config()))
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build(new_stack(tmp_path_factory.mktemp("drift-role")))


def test_reads_only_capture_and_writes_only_reports(template):
    assert_least_privilege(template)
    assert "arn:aws:s3:::mon/datacapture/demo-test-sentiment/*" in resources_for(template, "s3:GetObject")
    assert resources_for(template, "s3:PutObject") == ["arn:aws:s3:::mon/reports/demo-test-sentiment/*"]
    assert resources_for(template, "s3:ListBucket") == ["arn:aws:s3:::mon"]


def test_resolves_the_served_package_and_reads_its_baselines(template):
    assert [arn_tail(a) for a in resources_for(template, "ssm:GetParameter")] == [
        ":ssm:us-east-1:123456789012:parameter/demo/test/serving/model-package-arn"
    ]
    assert resources_for(template, "sagemaker:DescribeModelPackage") == [
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/demo-test-sentiment/*"
    ]
    assert any(arn_tail(a).endswith("/baselines/*") for a in resources_for(template, "s3:GetObject"))


def test_jobs_carry_the_prefix_and_metrics_the_namespace(template):
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:CreateProcessingJob")] == [
        ":sagemaker:us-east-1:123456789012:processing-job/demo-test-monitor*"
    ]
    [metrics] = [s for s in statements(template) if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": "demo/Monitoring"}}
    [grant] = [s for s in statements(template) if s["Action"] == "kms:CreateGrant"]
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_ground_truth_is_read_when_given(stack):
    template = build(stack, dataclasses.replace(ACCESS, ground_truth_arn="arn:aws:s3:::labels/gt/*"))
    assert "arn:aws:s3:::labels/gt/*" in resources_for(template, "s3:GetObject")


def test_a_malformed_group_arn_raises(stack):
    with pytest.raises(ValueError, match="model package group ARN"):
        build(
            stack,
            dataclasses.replace(ACCESS, group_arns=["arn:aws:sagemaker:us-east-1:123456789012:model-package/x/1"]),
        )
