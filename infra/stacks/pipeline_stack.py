"""Stateless ML workflows of one environment: the training pipeline and what starts it, and
the batch scoring pipeline where config enables it."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.batch_scoring import BatchScoring
from infra.constructs.pipeline_triggers import PipelineTriggers
from infra.constructs.private_network import FunctionPlacement
from infra.constructs.training_pipeline import TrainingPipeline
from infra.pipeline.network import JobNetwork
from infra.removal import removal_policy
from infra.stacks.data_stack import DataStack


class PipelineStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        source: EnvironmentConfig,
        network: JobNetwork | None = None,
        functions: FunctionPlacement | None = None,
        **kwargs,
    ) -> None:
        """``source``: the environment whose registry and artifacts served packages come from;
        ``network``: the private subnets and groups jobs run in (None: networking off)."""
        super().__init__(scope, construct_id, **kwargs)
        lake = data.lake
        buckets = {name: data.exported_bucket_arn(name) for name in ("raw", "features", "models")}
        self.training = TrainingPipeline(
            self,
            "Training",
            config=config,
            buckets=buckets,
            bucket_names={
                "raw": lake.raw.bucket_name,
                "features": lake.features.bucket_name,
                "models": lake.models.bucket_name,
            },
            key_arn=lake.key.key_arn,
            feature_group_name=data.features.feature_group_name,
            model_package_group_name=data.registry.group_name,
            network=network,
            tracking_uri=data.tracking_uri,
        )
        # Preprocess, Train, Evaluate, BaselineFeatures and LinkRun log to MLflow as this role.
        if data.tracking is not None:
            data.tracking.grant_logging(self.training.execution_role)
        self.triggers = PipelineTriggers(
            self,
            "Triggers",
            pipeline_name=self.training.pipeline_name,
            pipeline_arn=self.training.pipeline_arn,
            raw_bucket=lake.raw,
            model_package_group_name=data.registry.group_name,
            schedule=config.pipeline.retrain_schedule,
            removal_policy=removal_policy(config),
            placement=functions,
        )
        if config.batch_scoring.enabled:
            # Texts to score and predictions both in the features bucket: a dataset marker in
            # the raw bucket starts a training, which batch inputs must not.
            upstream = (
                ()
                if source.name == config.name
                else (
                    self.format_arn(
                        service="sagemaker",
                        account=source.account,
                        region=source.region,
                        resource="model-package-group",
                        resource_name=source.model_package_group_name,
                    ),
                )
            )
            self.batch = BatchScoring(
                self,
                "BatchScoring",
                config=config,
                buckets={"input": buckets["features"], "output": buckets["features"]},
                bucket_names={"input": lake.features.bucket_name, "output": lake.features.bucket_name},
                key_arn=lake.key.key_arn,
                model_package_group_name=data.registry.group_name,
                artifacts=ArtifactSource.of(source),
                upstream_group_arns=upstream,
                network=network,
            )
