"""MonitorRole (opt-in Model Monitor engine) on its own.

Props (all required): ``schedule_name``, ``read_prefix_arns``, ``write_prefix_arn``,
``artifacts`` (baselines only), ``bucket_arns``, ``key_arn``, ``analyzer_repository``.
"""

from __future__ import annotations

from aws_cdk.assertions import Template

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.monitor_role import MonitorRole
from tests.infra.constructs.conftest import (
    KEY_ARN,
    arn_tail,
    assert_least_privilege,
    make_config,
    resources_for,
    statements,
)

READS = ["arn:aws:s3:::mon/datacapture/e/*", "arn:aws:s3:::assets/record_preprocessor.py"]


def test_reads_captures_writes_reports_pulls_the_analyzer(stack):
    MonitorRole(
        stack,
        "MonitorRole",
        schedule_name="demo-test-sentiment-data-quality",
        read_prefix_arns=READS,
        write_prefix_arn="arn:aws:s3:::mon/reports/e/*",
        artifacts=ArtifactSource.of(make_config()),
        bucket_arns=["arn:aws:s3:::mon"],
        key_arn=KEY_ARN,
        analyzer_repository=("156813124566", "sagemaker-model-monitor-analyzer"),
    )
    template = Template.from_stack(stack)
    assert_least_privilege(template)
    assert all(arn in resources_for(template, "s3:GetObject") for arn in READS)
    assert any(arn_tail(a).endswith("/baselines/*") for a in resources_for(template, "s3:GetObject"))
    assert resources_for(template, "s3:PutObject") == ["arn:aws:s3:::mon/reports/e/*"]
    assert resources_for(template, "s3:ListBucket") == ["arn:aws:s3:::mon"]
    assert [arn_tail(a) for a in resources_for(template, "ecr:BatchGetImage")] == [
        ":ecr:us-east-1:156813124566:repository/sagemaker-model-monitor-analyzer"
    ]
    [metrics] = [s for s in statements(template) if s["Action"] == "cloudwatch:PutMetricData"]
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/*"}}
