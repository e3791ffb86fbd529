"""The least-privilege role SageMaker Pipelines and the pipeline's jobs run as.

Every statement names this environment's resources: its buckets (by prefix where the
pipeline writes), its key, its feature group and model package group, the exact code
asset object and the exact container repositories. What cannot be narrowed further (job
names SageMaker generates, CloudWatch's unscoped actions) is acknowledged one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import BASE_MODELS_PREFIX
from infra.constructs.container_grants import grant_container_basics
from infra.nag import acknowledge_wildcard


@dataclass(frozen=True)
class PipelineResources:
    """ARNs the role is scoped to (bucket ARNs as Fn::ImportValue so nag can name them)."""

    raw_bucket_arn: str
    features_bucket_arn: str
    models_bucket_arn: str
    key_arn: str
    code_object_arn: str
    feature_group_name: str
    model_package_group_name: str
    pipeline_name: str
    ecr_repositories: frozenset[tuple[str, str]]  # (registry account, repository)


class PipelineExecutionRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, resources: PipelineResources) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        r = resources
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs the {r.pipeline_name} SageMaker pipeline and its jobs",
        )
        role = self.role

        def allow(actions: list[str], arns: list[str], **conditions) -> None:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        def wildcard(arn: str, reason: str) -> str:
            acknowledge_wildcard(role, resource=arn, reason=reason)
            return arn

        sagemaker = lambda kind, name: stack.format_arn(service="sagemaker", resource=kind, resource_name=name)  # noqa: E731
        raw = wildcard(f"{r.raw_bucket_arn}/*", "Executions read whichever dataset prefix they are started with")
        work = wildcard(
            f"{r.features_bucket_arn}/{r.pipeline_name}/*",
            "Step outputs land under <pipeline>/<execution id>/, created per run",
        )
        models = [
            wildcard(f"{r.models_bucket_arn}/{prefix}/*", f"Training writes {what} per job under {prefix}/")
            for prefix, what in (
                ("training", "model.tar.gz"),
                ("checkpoints", "Spot checkpoints"),
                ("baselines", "the data-quality baseline"),
            )
        ]
        base_models = wildcard(
            f"{r.models_bucket_arn}/{BASE_MODELS_PREFIX}/*",
            "Jobs read the base model staged under base-models/<model>/<revision>/ (read only)",
        )
        allow(["s3:GetObject"], [raw, r.code_object_arn, base_models])
        allow(["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], [work, *models])
        allow(["s3:ListBucket", "s3:GetBucketLocation"], [r.raw_bucket_arn, r.features_bucket_arn, r.models_bucket_arn])
        # Job volumes, outputs and the lake's objects are all under the lake key.
        allow(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"], [r.key_arn])

        jobs = [
            wildcard(sagemaker(kind, "pipelines-*"), "SageMaker Pipelines names each job pipelines-<execution>-<step>")
            for kind in ("processing-job", "training-job")
        ]
        allow(
            [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:CreateTrainingJob",
                "sagemaker:DescribeTrainingJob",
                "sagemaker:StopTrainingJob",
                "sagemaker:AddTags",
            ],
            jobs,
        )
        packages = wildcard(
            sagemaker("model-package", f"{r.model_package_group_name}/*"), "Each registration creates a new version"
        )
        allow(
            ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"],
            [packages, sagemaker("model-package-group", r.model_package_group_name)],
        )
        allow(["sagemaker:PutRecord"], [sagemaker("feature-group", r.feature_group_name)])
        allow(["iam:PassRole"], [role.role_arn], StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"})

        # Training metrics (METRIC_DEFINITIONS) are published under /aws/sagemaker/.
        grant_container_basics(
            role,
            repositories=r.ecr_repositories,
            metric_namespace="/aws/sagemaker/*",
            log_groups=[
                (f"/aws/sagemaker/{kind}", f"Jobs write one log stream per instance into /aws/sagemaker/{kind}")
                for kind in ("ProcessingJobs", "TrainingJobs")
            ],
        )
