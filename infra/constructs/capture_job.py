"""A scheduled one-step SageMaker pipeline over the endpoint's data capture, in the monitor image.

The drift monitor (DriftMonitor) and the challenger comparison (ChallengerComparison) are
both this: ml_code from the code archive, run in containers/monitor's image (built by
`cdk deploy`, never at synth), their own least-privilege role, an EventBridge rule that starts
the pipeline on a cron schedule with its default parameters.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct
from sagemaker.workflow.pipeline import Pipeline

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.drift_monitor_role import DriftMonitorRole, MonitorAccess
from infra.pipeline.code_bundle import build_code_bundle
from infra.pipeline.monitor_definition import metrics_namespace
from infra.pipeline.network import JobNetwork
from infra.s3_arns import bucket_arn, objects_arn

IMAGE_DIR = Path(__file__).resolve().parents[2] / "containers" / "monitor"


@dataclass(frozen=True)
class CaptureJobSpec:
    """What differs between the capture jobs. ``build``: the SDK pipeline builder (keyword
    arguments role_arn, code_uri, image_uri, capture_uri, reports_uri, kms_key_arn,
    work_bucket, network, tracking_uri, code_version); ``served_parameter``/``group_arns``:
    for a job that resolves the served package; ``endpoint_metrics``: for a job that reads the endpoint's metrics."""

    pipeline_name: str
    job_prefix: str
    description: str
    schedule: str
    schedule_id: str  # the rule's construct id (names what it starts)
    build: Callable[..., Pipeline]
    served_parameter: str | None = None
    group_arns: Sequence[str] = ()
    endpoint_metrics: bool = False


class ScheduledCaptureJob(Construct):
    """``capture_prefix``: the endpoint's data capture in the monitoring bucket
    (<capture prefix>/<endpoint>); ``reports_prefix``: where dated report folders go there;
    ``monitoring_bucket_arn``: the bucket's exported ARN (IAM wildcards on it are acknowledged
    before it becomes an import); ``tracking_uri``: the environment's SageMaker AI MLflow App
    ARN, the default of the pipeline's TrackingUri parameter ("": tracking off)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: CaptureJobSpec,
        config: EnvironmentConfig,
        capture_prefix: str,
        reports_prefix: str,
        monitoring_bucket_name: str,
        monitoring_bucket_arn: str,
        key_arn: str,
        artifacts: ArtifactSource,
        network: JobNetwork | None = None,
        tracking_uri: str = "",
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.pipeline_name = spec.pipeline_name
        with tempfile.TemporaryDirectory(prefix="ml_code-") as scratch:
            self.code = s3_assets.Asset(self, "Code", path=str(build_code_bundle(Path(scratch))))
        self.image = ecr_assets.DockerImageAsset(
            self, "Image", directory=str(IMAGE_DIR), platform=ecr_assets.Platform.LINUX_AMD64
        )
        ground_truth = config.monitoring.ground_truth_s3_uri
        self.role = DriftMonitorRole(
            self,
            "Execution",
            artifacts=artifacts,
            access=MonitorAccess(
                pipeline_name=spec.pipeline_name,
                job_prefix=spec.job_prefix,
                bucket_arns=[monitoring_bucket_arn, *([bucket_arn(ground_truth)] if ground_truth else [])],
                capture_arn=f"{monitoring_bucket_arn}/{capture_prefix}/*",
                reports_arn=f"{monitoring_bucket_arn}/{reports_prefix}/*",
                ground_truth_arn=objects_arn(ground_truth) if ground_truth else None,
                key_arn=key_arn,
                served_parameter=spec.served_parameter,
                group_arns=spec.group_arns,
                metric_namespace=metrics_namespace(config),
                image_repository=(stack.account, self.image.repository.repository_name),
                endpoint_metrics=spec.endpoint_metrics,
            ),
        ).role
        role_arn = stack.format_arn(service="iam", region="", resource="role", resource_name=self.role.role_name)
        self.definition = spec.build(
            config,
            role_arn=role_arn,
            code_uri=self.code.s3_object_url,
            image_uri=self.image.image_uri,
            capture_uri=f"s3://{monitoring_bucket_name}/{capture_prefix}",
            reports_uri=f"s3://{monitoring_bucket_name}/{reports_prefix}",
            kms_key_arn=key_arn,
            work_bucket=monitoring_bucket_name,
            network=network,
            tracking_uri=tracking_uri,
            code_version=self.code.asset_hash,
        ).definition()
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=spec.pipeline_name,
            pipeline_display_name=spec.pipeline_name,
            pipeline_description=spec.description,
            pipeline_definition={"PipelineDefinitionBody": self.definition},
            role_arn=self.role.role_arn,
        )
        self.pipeline.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.pipeline_arn = stack.format_arn(service="sagemaker", resource="pipeline", resource_name=spec.pipeline_name)
        starter = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
        starter.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[self.pipeline_arn])
        )
        # No L2 target for SageMaker pipelines: the L1 rule; the pipeline's defaults are the run's.
        self.schedule = events.CfnRule(
            self,
            spec.schedule_id,
            description=f"Runs {spec.pipeline_name} on {spec.schedule}",
            schedule_expression=spec.schedule,
            targets=[
                events.CfnRule.TargetProperty(
                    id="pipeline",
                    arn=self.pipeline_arn,
                    role_arn=starter.role_arn,
                    sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                        pipeline_parameter_list=[]
                    ),
                )
            ],
        )
        self.schedule.node.add_dependency(self.pipeline)
