"""Offline batch scoring: a SageMaker Pipeline scoring texts in S3 with a registered model package.

``<prefix>-batch-scoring`` (infra/pipeline/batch_definition.py): ModelPackageArn + InputDataUri ->
predictions under OutputDataUri/<execution id>/, run by its own role (batch_scoring_role.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.batch_scoring_role import BatchScoringRole
from infra.pipeline.batch_definition import build_batch_pipeline
from infra.pipeline.images import image_uris_for, repository_of
from infra.pipeline.network import JobNetwork

INPUT_PREFIX = "batch-scoring"  # default InputDataUri: s3://<input bucket>/batch-scoring/


class BatchScoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        buckets: dict[str, str],  # input/output -> bucket ARN (Fn::ImportValue)
        bucket_names: dict[str, str],  # input/output -> bucket name
        key_arn: str,
        model_package_group_name: str,
        artifacts: ArtifactSource,
        upstream_group_arns: Sequence[str] = (),
        network: JobNetwork | None = None,
    ) -> None:
        """Scores with versions of this environment's ``model_package_group_name`` or of
        ``upstream_group_arns`` (a promoted environment: the source account's group), whose
        model.tar.gz live in ``artifacts``. Outputs are written under the lake key ``key_arn``."""
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.pipeline_name = config.batch_pipeline_name
        own_group = stack.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=model_package_group_name
        )
        self.role = BatchScoringRole(
            self,
            "Execution",
            config=config,
            input_bucket_arn=buckets["input"],
            output_bucket_arn=buckets["output"],
            key_arn=key_arn,
            artifacts=artifacts,
            group_arns=[own_group, *upstream_group_arns],
            image_repository=repository_of(image_uris_for(config.region).inference),  # the image packages name
        ).role
        # A "/" in the role ARN keeps the SDK from looking the role up in IAM (see TrainingPipeline).
        role_arn = stack.format_arn(service="iam", region="", resource="role", resource_name=self.role.role_name)
        self.definition = build_batch_pipeline(
            config,
            role_arn=role_arn,
            kms_key_arn=key_arn,
            default_input_uri=f"s3://{bucket_names['input']}/{INPUT_PREFIX}/",
            # The role may write only here (one folder per execution below it).
            default_output_uri=f"s3://{bucket_names['output']}/{self.pipeline_name}",
            work_bucket=bucket_names["output"],
            network=network,
        ).definition()
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_display_name=self.pipeline_name,
            pipeline_description="Scores texts in S3 with a registered model package (batch transform)",
            pipeline_definition={"PipelineDefinitionBody": self.definition},
            role_arn=self.role.role_arn,
        )
        # The pipeline checks its role when created; the inline policy must exist by then.
        self.pipeline.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
        self.pipeline_arn = stack.format_arn(service="sagemaker", resource="pipeline", resource_name=self.pipeline_name)
