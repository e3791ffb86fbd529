"""The SageMaker Pipeline resource: ml_code as an asset, the training image (the DLC plus the
MLflow client) as an image asset, the SDK-built definition, its role."""

from __future__ import annotations

import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.pipeline_role import PipelineExecutionRole, PipelineResources
from infra.constructs.training_image import TrainingImage
from infra.pipeline.code_bundle import build_code_bundle
from infra.pipeline.definition import build_pipeline
from infra.pipeline.images import analyzer_image_uri, image_uris_for, repository_of
from infra.pipeline.network import JobNetwork


class TrainingPipeline(Construct):
    """Preprocess -> Train -> Evaluate -> gate -> Register, as an AWS::SageMaker::Pipeline."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        buckets: dict[str, str],  # raw/features/models -> bucket ARN (Fn::ImportValue)
        bucket_names: dict[str, str],
        key_arn: str,
        feature_group_name: str,
        model_package_group_name: str,
        network: JobNetwork | None = None,
        tracking_uri: str = "",
    ) -> None:
        """``tracking_uri``: the environment's SageMaker AI MLflow App ARN, the default of the
        pipeline's TrackingUri parameter ("": tracking off)."""
        super().__init__(scope, construct_id)
        self.pipeline_name = config.pipeline_name
        # Rebuilt on every synth; identical sources give identical bytes, so the same hash.
        # The asset is staged into the cloud assembly at construction, so the temp dir can go.
        with tempfile.TemporaryDirectory(prefix="ml_code-") as scratch:
            self.code = s3_assets.Asset(self, "Code", path=str(build_code_bundle(Path(scratch))))
        images = image_uris_for(config.region)
        # Train and the processing steps run the DLC plus the MLflow client, built from it.
        self.image = TrainingImage(self, "Image", base_image_uri=images.training)
        job_images = {
            kind: self.image.image_uri if uri == images.training else uri
            for kind, uri in (
                ("training", images.training),
                ("processing", images.processing),
                ("inference", images.inference),
            )
        }
        # What the role's jobs run: the derived image (not the DLC it builds on). Register only
        # names the inference image in the package; no job of this role pulls it.
        repositories = {
            self.image.repository if uri == self.image.image_uri else repository_of(uri)
            for uri in (job_images["training"], job_images["processing"])
        }
        if config.monitoring.engine == "model_monitor":
            # The opt-in Model Monitor engine's quality-check step runs the analyzer image.
            repositories.add(repository_of(analyzer_image_uri(config.region)))
        self.execution_role = PipelineExecutionRole(
            self,
            "Execution",
            resources=PipelineResources(
                raw_bucket_arn=buckets["raw"],
                features_bucket_arn=buckets["features"],
                models_bucket_arn=buckets["models"],
                key_arn=key_arn,
                code_object_arn=self.code.bucket.arn_for_objects(self.code.s3_object_key),
                feature_group_name=feature_group_name,
                model_package_group_name=model_package_group_name,
                pipeline_name=self.pipeline_name,
                ecr_repositories=frozenset(repositories),
            ),
        ).role
        # The SDK looks a role up in IAM unless its value contains "/", which a bare
        # ${Token[...]} does not; the ARN built around the role name does.
        role_arn = cdk.Stack.of(self).format_arn(
            service="iam", region="", resource="role", resource_name=self.execution_role.role_name
        )
        pipeline = build_pipeline(
            config,
            name=self.pipeline_name,
            role_arn=role_arn,
            code_uri=self.code.s3_object_url,
            default_input_uri=f"s3://{bucket_names['raw']}/womens-clothing-reviews/",
            work_bucket=bucket_names["features"],
            models_uri=f"s3://{bucket_names['models']}",
            kms_key_arn=key_arn,
            images=job_images,
            feature_group_name=feature_group_name,
            model_package_group=model_package_group_name,
            network=network,
            tracking_uri=tracking_uri,
            code_version=self.code.asset_hash,
        )
        self.definition = pipeline.definition()
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_display_name=self.pipeline_name,
            pipeline_description="Reviews -> RoBERTa features -> fine-tune -> evaluate -> gated registration",
            pipeline_definition={"PipelineDefinitionBody": self.definition},
            role_arn=self.execution_role.role_arn,
        )
        # The pipeline checks its role when created; the inline policy must exist by then.
        self.pipeline.node.add_dependency(self.execution_role.node.find_child("DefaultPolicy"))
        self.pipeline_arn = cdk.Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name
        )
