"""Stateless ML workflow of one environment: the training pipeline and what starts it."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.pipeline_triggers import PipelineTriggers
from infra.constructs.training_pipeline import TrainingPipeline
from infra.stacks.data_stack import DataStack


class PipelineStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data: DataStack, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        lake = data.lake
        self.training = TrainingPipeline(
            self,
            "Training",
            config=config,
            buckets={name: data.exported_bucket_arn(name) for name in ("raw", "features", "models")},
            bucket_names={"raw": lake.raw.bucket_name, "features": lake.features.bucket_name, "models": lake.models.bucket_name},
            key_arn=lake.key.key_arn,
            feature_group_name=data.features.feature_group_name,
            model_package_group_name=data.registry.group_name,
        )
        self.triggers = PipelineTriggers(
            self,
            "Triggers",
            pipeline_name=self.training.pipeline_name,
            pipeline_arn=self.training.pipeline_arn,
            raw_bucket=lake.raw,
            model_package_group_name=data.registry.group_name,
            schedule=config.pipeline.retrain_schedule,
        )
