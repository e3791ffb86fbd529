"""Scheduled Evidently monitoring of an endpoint: the `<prefix>-monitor` pipeline and its schedule.

The default engine (``monitoring.engine: "evidently"``): every ``monitoring.schedule`` an
EventBridge rule starts the monitoring pipeline (infra/pipeline/monitor_definition.py),
whose DriftMonitor job judges the last ``window_hours`` of data capture against the served
package's reference and publishes metrics in ``<project>/Monitoring`` (DriftAlarms and the
model-quality alarm read them). It needs no Model Monitor, which AWS closed to new customers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.drift_monitor_role import DriftMonitorRole, MonitorAccess
from infra.pipeline.code_bundle import build_code_bundle
from infra.pipeline.monitor_definition import build_monitor_pipeline, metrics_namespace, monitor_job_prefix
from infra.pipeline.network import JobNetwork
from infra.s3_arns import bucket_arn, objects_arn

IMAGE_DIR = Path(__file__).resolve().parents[2] / "containers" / "monitor"


class DriftMonitor(Construct):
    """``capture_prefix``: the endpoint's data capture in the monitoring bucket
    (<capture prefix>/<endpoint>); ``reports_prefix``: where dated report folders go there;
    ``monitoring_bucket_arn``: the bucket's exported ARN (IAM wildcards on it are acknowledged
    before it becomes an import); ``group_arns``: model package groups whose versions may be served."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        capture_prefix: str,
        reports_prefix: str,
        monitoring_bucket_name: str,
        monitoring_bucket_arn: str,
        key_arn: str,
        artifacts: ArtifactSource,
        group_arns: Sequence[str],
        network: JobNetwork | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        capture_uri = f"s3://{monitoring_bucket_name}/{capture_prefix}"
        reports_uri = f"s3://{monitoring_bucket_name}/{reports_prefix}"
        self.pipeline_name = config.monitor_pipeline_name
        with tempfile.TemporaryDirectory(prefix="ml_code-") as scratch:
            self.code = s3_assets.Asset(self, "Code", path=str(build_code_bundle(Path(scratch))))
        # Built where the app is deployed (cdk deploy / the delivery pipeline), never at synth.
        self.image = ecr_assets.DockerImageAsset(
            self, "Image", directory=str(IMAGE_DIR), platform=ecr_assets.Platform.LINUX_AMD64
        )
        ground_truth = config.monitoring.ground_truth_s3_uri
        buckets = [monitoring_bucket_arn, *([bucket_arn(ground_truth)] if ground_truth else [])]
        self.role = DriftMonitorRole(
            self,
            "Execution",
            artifacts=artifacts,
            access=MonitorAccess(
                pipeline_name=self.pipeline_name,
                job_prefix=monitor_job_prefix(config),
                bucket_arns=buckets,
                capture_arn=f"{monitoring_bucket_arn}/{capture_prefix}/*",
                reports_arn=f"{monitoring_bucket_arn}/{reports_prefix}/*",
                ground_truth_arn=objects_arn(ground_truth) if ground_truth else None,
                key_arn=key_arn,
                served_parameter=config.served_model_parameter,
                group_arns=group_arns,
                metric_namespace=metrics_namespace(config),
                image_repository=(stack.account, self.image.repository.repository_name),
            ),
        ).role
        role_arn = stack.format_arn(service="iam", region="", resource="role", resource_name=self.role.role_name)
        self.definition = build_monitor_pipeline(
            config,
            role_arn=role_arn,
            code_uri=self.code.s3_object_url,
            image_uri=self.image.image_uri,
            capture_uri=capture_uri,
            reports_uri=reports_uri,
            kms_key_arn=key_arn,
            work_bucket=monitoring_bucket_name,
            network=network,
        ).definition()
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_display_name=self.pipeline_name,
            pipeline_description="Drift, data quality and model quality of the endpoint's captured traffic (Evidently)",
            pipeline_definition={"PipelineDefinitionBody": self.definition},
            role_arn=self.role.role_arn,
        )
        self.pipeline.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.pipeline_arn = stack.format_arn(service="sagemaker", resource="pipeline", resource_name=self.pipeline_name)
        starter = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
        starter.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[self.pipeline_arn])
        )
        # No L2 target for SageMaker pipelines: the L1 rule; the pipeline's defaults are the run's.
        self.schedule = events.CfnRule(
            self,
            "MonitorSchedule",
            description=f"Runs {self.pipeline_name} on {config.monitoring.schedule}",
            schedule_expression=config.monitoring.schedule,
            targets=[
                events.CfnRule.TargetProperty(
                    id="monitor",
                    arn=self.pipeline_arn,
                    role_arn=starter.role_arn,
                    sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                        pipeline_parameter_list=[]
                    ),
                )
            ],
        )
        self.schedule.node.add_dependency(self.pipeline)
