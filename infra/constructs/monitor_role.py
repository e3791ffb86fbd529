"""The role Model Monitor's jobs run as: read captures and the baseline, write reports."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.container_grants import grant_container_basics
from infra.nag import acknowledge_wildcard


class MonitorRole(Construct):
    """``read_prefix_arns``: object ARNs (with /*) the jobs read in this environment: captured
    data, the record preprocessor; ``artifacts``: where the package's baselines are;
    ``write_prefix_arn``: where reports go."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedule_name: str,
        read_prefix_arns: list[str],
        write_prefix_arn: str,
        artifacts: ArtifactSource,
        bucket_arns: list[str],
        key_arn: str,
        analyzer_repository: tuple[str, str],  # (registry account, repository)
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Model Monitor jobs of {schedule_name}",
        )
        role = self.role

        def allow(actions: list[str], arns: list[str], **conditions) -> None:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        for arn in [*read_prefix_arns, write_prefix_arn]:
            if arn.endswith("*"):
                acknowledge_wildcard(
                    role, resource=arn, reason="Objects written per hour, job or training run under this prefix"
                )
        allow(["s3:GetObject"], read_prefix_arns)
        allow(["s3:PutObject", "s3:AbortMultipartUpload"], [write_prefix_arn])
        allow(["s3:ListBucket"], bucket_arns)
        allow(["kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"], [key_arn])
        artifacts.grant_read(role, ["baselines"])
        # The analyzer publishes drift metrics to aws/sagemaker/Endpoints/data-metrics.
        grant_container_basics(
            role,
            repositories=[analyzer_repository],
            metric_namespace="aws/sagemaker/Endpoints/*",
            log_groups=[
                ("/aws/sagemaker/ProcessingJobs", "Monitoring executions are processing jobs with generated names")
            ],
        )
