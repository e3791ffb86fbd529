"""Optional hourly model-quality job: captured predictions against labels users upload."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.constructs.data_quality_monitor import MonitorInputs
from infra.instance_storage import volume_kms_key

_JOB = sagemaker.CfnModelQualityJobDefinition


class ModelQualityMonitor(Construct):
    """Merges captured predictions with ground truth by inference id and reports accuracy,
    per-class precision/recall and the confusion matrix (metrics in
    aws/sagemaker/Endpoints/model-metrics).

    Ground truth: JSON lines under ``ground_truth_uri``/yyyy/mm/dd/hh/, each
    {"groundTruthData": {"data": "<label>", "encoding": "CSV"}, "eventMetadata":
    {"eventId": "<inference id of a one-text request>"}, "eventVersion": "0"}. The record
    preprocessor flattens captured answers, so ``predicted_label`` names the prediction.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, inputs: MonitorInputs, ground_truth_uri: str, label_attribute: str
    ) -> None:
        super().__init__(scope, construct_id)
        i = inputs
        self.job_definition = _JOB(
            self,
            "JobDefinition",
            role_arn=i.role_arn,
            model_quality_app_specification=_JOB.ModelQualityAppSpecificationProperty(
                image_uri=i.analyzer_image,
                problem_type="MulticlassClassification",
                record_preprocessor_source_uri=i.record_preprocessor_uri,
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            model_quality_job_input=_JOB.ModelQualityJobInputProperty(
                endpoint_input=_JOB.EndpointInputProperty(
                    endpoint_name=i.endpoint_name,
                    local_path="/opt/ml/processing/input/endpoint",
                    inference_attribute=label_attribute,
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                    # Labels arrive later than predictions: judge the day up to an hour ago.
                    start_time_offset="-P1D",
                    end_time_offset="-PT1H",
                ),
                ground_truth_s3_input=_JOB.MonitoringGroundTruthS3InputProperty(s3_uri=ground_truth_uri),
            ),
            model_quality_job_output_config=_JOB.MonitoringOutputConfigProperty(
                kms_key_id=i.key_arn,
                monitoring_outputs=[
                    _JOB.MonitoringOutputProperty(
                        s3_output=_JOB.S3OutputProperty(
                            local_path="/opt/ml/processing/output",
                            s3_uri=f"{i.reports_uri}/model-quality",
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=_JOB.MonitoringResourcesProperty(
                cluster_config=_JOB.ClusterConfigProperty(
                    instance_count=1,
                    instance_type=i.instance_type,
                    volume_size_in_gb=30,
                    volume_kms_key_id=volume_kms_key(i.instance_type, i.key_arn),
                )
            ),
            network_config=_JOB.NetworkConfigProperty(
                enable_network_isolation=True, enable_inter_container_traffic_encryption=True
            ),
            stopping_condition=_JOB.StoppingConditionProperty(max_runtime_in_seconds=3600),
        )
        self.schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "Schedule",
            monitoring_schedule_name=f"{i.endpoint_name}-model-quality",
            endpoint_name=i.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=cdk.Fn.select(
                    1, cdk.Fn.split("/", self.job_definition.attr_job_definition_arn)
                ),
                monitoring_type="ModelQuality",
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(schedule_expression=i.schedule),
            ),
        )
