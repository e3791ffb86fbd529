"""The least-privilege role the batch scoring pipeline, its model and its transform jobs run as.

It reads any dataset in the input bucket, writes only under ``<output bucket>/<batch pipeline>/``,
reads the packages' model.tar.gz where the training pipeline wrote them (``ArtifactSource``),
describes packages of the allowed groups only, and creates only models and transform jobs
named with the environment's batch prefix. Each wildcard is acknowledged with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.container_grants import grant_container_basics
from infra.instance_storage import has_instance_storage
from infra.nag import acknowledge_wildcard
from infra.pipeline.batch_definition import batch_job_prefix

_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package-group/[A-Za-z0-9-]+$")


def packages_of(group_arn: str) -> str:
    """The ARNs of every version in a model package group (an unresolved token passes unchecked)."""
    if not cdk.Token.is_unresolved(group_arn) and not _GROUP_ARN.match(group_arn):
        raise ValueError(f"expected a model package group ARN, got {group_arn!r}")
    return group_arn.replace(":model-package-group/", ":model-package/", 1) + "/*"


class BatchScoringRole(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        input_bucket_arn: str,
        output_bucket_arn: str,
        key_arn: str,  # this environment's lake key: inputs, outputs and (EBS types) job volumes
        artifacts: ArtifactSource,
        group_arns: Sequence[str],
        image_repository: tuple[str, str],  # (registry account, repository) of the inference image
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        pipeline = config.batch_pipeline_name
        role = self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs the {pipeline} SageMaker pipeline and its jobs",
        )

        def allow(actions: list[str], arns: list[str], **conditions) -> None:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        def wildcard(resource: str, reason: str) -> str:
            acknowledge_wildcard(role, resource=resource, reason=reason)
            return resource

        def sagemaker(kind: str, name: str) -> str:
            return stack.format_arn(service="sagemaker", resource=kind, resource_name=name)

        inputs = wildcard(f"{input_bucket_arn}/*", "Executions score whichever dataset they are given")
        allow(["s3:GetObject"], [inputs])
        allow(["s3:ListBucket"], [input_bucket_arn])  # an S3Prefix input is listed
        output = wildcard(f"{output_bucket_arn}/{pipeline}/*", "Each execution writes into its own folder")
        allow(["s3:PutObject", "s3:AbortMultipartUpload"], [output])
        allow(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [key_arn])
        if not has_instance_storage(config.batch_scoring.instance_type):
            # EBS job volumes under the lake key; NVMe types take no volume key, so need no grant.
            allow(["kms:CreateGrant"], [key_arn], Bool={"kms:GrantIsForAWSResource": "true"})
        artifacts.grant_read(role, ["training"])  # model.tar.gz, wherever the package was trained
        packages = [
            wildcard(packages_of(arn), "Any registered version of the group may be scored") for arn in group_arns
        ]
        allow(["sagemaker:DescribeModelPackage"], packages)

        named = f"{batch_job_prefix(config)}*"
        model = wildcard(sagemaker("model", named), "Pipelines name each execution's model <prefix>-batch + an id")
        jobs = wildcard(sagemaker("transform-job", named), "Pipelines name each execution's job <prefix>-batch + an id")
        allow(["sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:AddTags"], [model])
        allow(
            [
                "sagemaker:CreateTransformJob",
                "sagemaker:DescribeTransformJob",
                "sagemaker:StopTransformJob",
                "sagemaker:AddTags",
            ],
            [jobs],
        )
        allow(["iam:PassRole"], [role.role_arn], StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"})
        grant_container_basics(
            role,
            repositories=[image_repository],
            metric_namespace="/aws/sagemaker/*",
            log_groups=[("/aws/sagemaker/TransformJobs", "Transform jobs write one log stream per instance")],
        )
