"""The role a served model runs as: read its artifacts, pull its image, log, capture data."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.artifact_source import ArtifactSource
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
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Containers of the {endpoint_name} endpoint",
        )  # fmt: skip
        role = self.role

        def allow(actions: list[str], arns: list[str], **conditions) -> None:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        artifacts.grant_read(role, ["training"])
        acknowledge_wildcard(role, resource=capture_prefix_arn, reason="Data capture writes one object per hour and instance")
        allow(["s3:PutObject"], [capture_prefix_arn])
        allow(["kms:GenerateDataKey"], [key_arn])  # captured data is written under this environment's key
        allow(
            ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
            sorted(
                stack.format_arn(service="ecr", account=account, resource="repository", resource_name=repository)
                for account, repository in ecr_repositories
            ),
        )
        acknowledge_wildcard(
            role, resource="*", reason="ecr:GetAuthorizationToken and cloudwatch:PutMetricData take no resource scope"
        )
        allow(["ecr:GetAuthorizationToken"], ["*"])
        allow(["cloudwatch:PutMetricData"], ["*"], StringLike={"cloudwatch:namespace": "/aws/sagemaker/*"})
        logs = stack.format_arn(
            service="logs", resource="log-group", resource_name=f"/aws/sagemaker/Endpoints/{endpoint_name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )  # fmt: skip
        acknowledge_wildcard(role, resource=logs, reason="One log stream per variant and instance")
        allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [logs])
