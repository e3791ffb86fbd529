"""DataQualityMonitor (opt-in Model Monitor engine) on its own.

Props: ``inputs`` (MonitorInputs, all fields required: endpoint, schedule name and cron,
instance type, role, analyzer image, record preprocessor, baseline URIs, reports, key).
Secure defaults: network isolation, inter-container encryption, reports and (EBS types)
volumes under the key, a one-hour run limit.
"""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.data_quality_monitor import DataQualityMonitor, MonitorInputs
from tests.infra.constructs.conftest import KEY_ARN, new_stack

INPUTS = MonitorInputs(
    endpoint_name="demo-test-sentiment",
    schedule_name="demo-test-sentiment-data-quality",
    schedule="cron(0 * ? * * *)",
    instance_type="ml.m5.large",
    role_arn="arn:aws:iam::123456789012:role/monitor",
    analyzer_image="analyzer:latest",
    record_preprocessor_uri="s3://assets/pre.py",
    statistics_uri="s3://b/statistics.json",
    constraints_uri="s3://b/constraints.json",
    reports_uri="s3://mon/reports/demo-test-sentiment",
    key_arn=KEY_ARN,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("dq"))
    DataQualityMonitor(stack, "DataQuality", inputs=INPUTS)
    return Template.from_stack(stack)


def test_job_compares_capture_with_the_baseline_in_isolation(template):
    template.has_resource_properties(
        "AWS::SageMaker::DataQualityJobDefinition",
        {
            "RoleArn": INPUTS.role_arn,
            "DataQualityAppSpecification": {
                "ImageUri": "analyzer:latest",
                "RecordPreprocessorSourceUri": "s3://assets/pre.py",
                "Environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            "DataQualityBaselineConfig": {
                "StatisticsResource": {"S3Uri": "s3://b/statistics.json"},
                "ConstraintsResource": {"S3Uri": "s3://b/constraints.json"},
            },
            "DataQualityJobInput": {"EndpointInput": Match.object_like({"EndpointName": "demo-test-sentiment"})},
            "DataQualityJobOutputConfig": {
                "KmsKeyId": KEY_ARN,
                "MonitoringOutputs": [
                    {"S3Output": Match.object_like({"S3Uri": "s3://mon/reports/demo-test-sentiment"})}
                ],
            },
            "JobResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 30,
                    "VolumeKmsKeyId": KEY_ARN,
                }
            },
            "NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    )


def test_schedule_runs_the_definition_on_the_cron(template):
    template.has_resource_properties(
        "AWS::SageMaker::MonitoringSchedule",
        {
            "MonitoringScheduleName": "demo-test-sentiment-data-quality",
            "EndpointName": "demo-test-sentiment",
            "MonitoringScheduleConfig": {
                "MonitoringType": "DataQuality",
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinitionName": Match.any_value(),
            },
        },
    )


def test_instance_storage_types_take_no_volume_key(stack):
    DataQualityMonitor(stack, "DataQuality", inputs=dataclasses.replace(INPUTS, instance_type="ml.m5d.large"))
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::DataQualityJobDefinition",
        {"JobResources": {"ClusterConfig": Match.object_like({"VolumeKmsKeyId": Match.absent()})}},
    )
