"""Hourly Model Monitor data-quality job on the endpoint's captured requests and responses."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.instance_storage import volume_kms_key

_JOB = sagemaker.CfnDataQualityJobDefinition
_CAPTURE_PATH = "/opt/ml/processing/input/endpoint"
_OUTPUT_PATH = "/opt/ml/processing/output"


@dataclass(frozen=True)
class MonitorInputs:
    endpoint_name: str
    schedule_name: str
    schedule: str  # cron
    instance_type: str
    role_arn: str
    analyzer_image: str
    record_preprocessor_uri: str  # ml_code/monitoring/record_preprocessor.py as an asset
    statistics_uri: str
    constraints_uri: str
    reports_uri: str
    key_arn: str


class DataQualityMonitor(Construct):
    """The analyzer compares each hour's features (from the record preprocessor) with the
    package's baseline, writes a violations report and publishes per-feature drift metrics
    (``feature_baseline_drift_<feature>`` in aws/sagemaker/Endpoints/data-metrics)."""

    def __init__(self, scope: Construct, construct_id: str, *, inputs: MonitorInputs) -> None:
        super().__init__(scope, construct_id)
        i = inputs
        self.job_definition = _JOB(
            self,
            "JobDefinition",
            role_arn=i.role_arn,
            data_quality_app_specification=_JOB.DataQualityAppSpecificationProperty(
                image_uri=i.analyzer_image,
                record_preprocessor_source_uri=i.record_preprocessor_uri,
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=_JOB.DataQualityBaselineConfigProperty(
                statistics_resource=_JOB.StatisticsResourceProperty(s3_uri=i.statistics_uri),
                constraints_resource=_JOB.ConstraintsResourceProperty(s3_uri=i.constraints_uri),
            ),
            data_quality_job_input=_JOB.DataQualityJobInputProperty(
                endpoint_input=_JOB.EndpointInputProperty(
                    endpoint_name=i.endpoint_name,
                    local_path=_CAPTURE_PATH,
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                )
            ),
            data_quality_job_output_config=_JOB.MonitoringOutputConfigProperty(
                kms_key_id=i.key_arn,
                monitoring_outputs=[
                    _JOB.MonitoringOutputProperty(
                        s3_output=_JOB.S3OutputProperty(
                            local_path=_OUTPUT_PATH,
                            s3_uri=i.reports_uri,
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
            # The analyzer needs no network: SageMaker stages inputs and outputs for it.
            network_config=_JOB.NetworkConfigProperty(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
            ),
            stopping_condition=_JOB.StoppingConditionProperty(max_runtime_in_seconds=3600),
        )
        self.schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "Schedule",
            monitoring_schedule_name=i.schedule_name,
            endpoint_name=i.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                # CloudFormation names the definition (so it can replace it) and returns only its ARN.
                monitoring_job_definition_name=cdk.Fn.select(
                    1, cdk.Fn.split("/", self.job_definition.attr_job_definition_arn)
                ),
                monitoring_type="DataQuality",
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(schedule_expression=i.schedule),
            ),
        )
