"""DriftMonitor (the default Evidently engine) on its own.

Props (all required): ``config`` (names, monitoring schedule, window, ground truth),
``capture_prefix``, ``reports_prefix``, ``monitoring_bucket_name``, ``monitoring_bucket_arn``,
``key_arn``, ``artifacts``, ``group_arns``. The image is an asset built at deploy, never at synth.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.capture_job import ScheduledCaptureJob
from infra.constructs.drift_monitor import drift_monitor_spec
from tests.infra.constructs.conftest import GROUP_ARN, KEY_ARN, arn_tail, make_config, new_stack, resources_for

BUCKET_ARN = "arn:aws:s3:::demo-monitoring"


def build(stack, config):
    monitor = ScheduledCaptureJob(
        stack,
        "Monitor",
        spec=drift_monitor_spec(config, [GROUP_ARN]),
        config=config,
        capture_prefix="datacapture/demo-test-sentiment",
        reports_prefix="reports/demo-test-sentiment",
        monitoring_bucket_name="demo-monitoring",
        monitoring_bucket_arn=BUCKET_ARN,
        key_arn=KEY_ARN,
        artifacts=ArtifactSource.of(config),
    )
    return monitor, Template.from_stack(stack)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(new_stack(tmp_path_factory.mktemp("drift")), make_config())


def test_pipeline_named_from_config_after_its_role_policy(built):
    monitor, template = built
    assert (
        arn_tail(cdk.Stack.of(monitor).resolve(monitor.pipeline_arn))
        == ":sagemaker:us-east-1:123456789012:pipeline/demo-test-monitor"
    )
    template.has_resource_properties("AWS::SageMaker::Pipeline", {"PipelineName": "demo-test-monitor"})
    [resource] = template.find_resources("AWS::SageMaker::Pipeline").values()
    assert set(resource["DependsOn"]) & set(template.find_resources("AWS::IAM::Policy"))
    text = json.dumps(resource["Properties"]["PipelineDefinition"])
    for expected in (
        "s3://demo-monitoring/datacapture/demo-test-sentiment",
        "s3://demo-monitoring/reports/demo-test-sentiment",
        KEY_ARN,
    ):
        assert expected in text, expected


def test_the_schedule_from_config_starts_only_this_pipeline(built):
    monitor, template = built
    arn = cdk.Stack.of(monitor).resolve(monitor.pipeline_arn)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 */2 ? * * *)",
            "Targets": [Match.object_like({"Arn": arn, "SageMakerPipelineParameters": {"PipelineParameterList": []}})],
        },
    )
    assert resources_for(template, "sagemaker:StartPipelineExecution") == [arn]


def test_the_role_reads_capture_and_writes_reports_in_the_bucket(built):
    _, template = built
    assert f"{BUCKET_ARN}/datacapture/demo-test-sentiment/*" in resources_for(template, "s3:GetObject")
    assert resources_for(template, "s3:PutObject") == [f"{BUCKET_ARN}/reports/demo-test-sentiment/*"]
    assert resources_for(template, "s3:ListBucket") == [BUCKET_ARN]


def test_the_image_is_a_deploy_time_asset(built):
    monitor, _ = built
    # Staged into the assembly for the deploy to build and push; the template only names it.
    assert "dkr.ecr" in json.dumps(cdk.Stack.of(monitor).resolve(monitor.image.image_uri))
    assert monitor.image.asset_hash in json.dumps(cdk.Stack.of(monitor).resolve(monitor.image.image_uri))


def test_ground_truth_bucket_is_listed_and_read_when_configured(tmp_path):
    _, template = build(new_stack(tmp_path), make_config(monitoring={"ground_truth_s3_uri": "s3://labels/gt"}))
    assert [arn_tail(a) for a in resources_for(template, "s3:ListBucket")][-1] == ":s3:::labels"
    assert any(arn_tail(a) == ":s3:::labels/gt/*" for a in resources_for(template, "s3:GetObject"))
