"""ModelQualityMonitor (opt-in Model Monitor engine) on its own.

Props (all required): ``inputs`` (MonitorInputs), ``ground_truth_uri``,
``label_attribute`` (the flattened prediction's name). Judges the day up to an hour ago.
"""

from __future__ import annotations

from aws_cdk.assertions import Match, Template

from infra.constructs.model_quality_monitor import ModelQualityMonitor
from tests.infra.constructs.conftest import KEY_ARN
from tests.infra.constructs.test_data_quality_monitor import INPUTS


def test_job_merges_capture_with_ground_truth_in_isolation(stack):
    ModelQualityMonitor(
        stack, "ModelQuality", inputs=INPUTS, ground_truth_uri="s3://labels/gt", label_attribute="predicted_label"
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::SageMaker::ModelQualityJobDefinition",
        {
            "ModelQualityAppSpecification": Match.object_like(
                {"ProblemType": "MulticlassClassification", "ImageUri": "analyzer:latest"}
            ),
            "ModelQualityJobInput": {
                "EndpointInput": Match.object_like(
                    {
                        "EndpointName": "demo-test-sentiment",
                        "InferenceAttribute": "predicted_label",
                        "StartTimeOffset": "-P1D",
                        "EndTimeOffset": "-PT1H",
                    }
                ),
                "GroundTruthS3Input": {"S3Uri": "s3://labels/gt"},
            },
            "ModelQualityJobOutputConfig": {
                "KmsKeyId": KEY_ARN,
                "MonitoringOutputs": [
                    {"S3Output": Match.object_like({"S3Uri": "s3://mon/reports/demo-test-sentiment/model-quality"})}
                ],
            },
            "NetworkConfig": {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
        },
    )
    template.has_resource_properties(
        "AWS::SageMaker::MonitoringSchedule",
        {
            "MonitoringScheduleName": "demo-test-sentiment-model-quality",
            "MonitoringScheduleConfig": Match.object_like({"MonitoringType": "ModelQuality"}),
        },
    )
