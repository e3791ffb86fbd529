"""The role a served model runs as: read its artifacts, pull its image, log, capture data."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.container_grants import grant_container_basics
from infra.nag import acknowledge_wildcard


class ModelExecutionRole(Construct):
    """Least privilege for one endpoint's containers.

    ``artifacts``: where the served packages' model.tar.gz live (dev's models bucket, also
    for promoted environments). ``capture_prefix_arn``: the objects data capture writes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        artifacts: ArtifactSource,
        capture_prefix_arn: str,
        key_arn: str,
        ecr_repositories: frozenset[tuple[str, str]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Containers of the {endpoint_name} endpoint",
        )
        role = self.role

        def allow(actions: list[str], arns: list[str], **conditions) -> None:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        artifacts.grant_read(role, ["training"])
        acknowledge_wildcard(
            role, resource=capture_prefix_arn, reason="Data capture writes one object per hour and instance"
        )
        allow(["s3:PutObject"], [capture_prefix_arn])
        allow(["kms:GenerateDataKey"], [key_arn])  # captured data is written under this environment's key
        grant_container_basics(
            role,
            repositories=ecr_repositories,
            metric_namespace="/aws/sagemaker/*",
            log_groups=[(f"/aws/sagemaker/Endpoints/{endpoint_name}", "One log stream per variant and instance")],
        )
