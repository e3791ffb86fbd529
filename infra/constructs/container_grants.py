"""What every SageMaker job or endpoint container needs, scoped as far as AWS allows.

Pull its image(s), write its CloudWatch log group, publish metrics in its namespace. The
training pipeline's, batch scoring's, the endpoint's and Model Monitor's roles all grant
these; the two actions AWS scopes to no resource are acknowledged once per role here.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from infra.nag import acknowledge_wildcard

_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
_LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]


def grant_container_basics(
    role: iam.Role,
    *,
    repositories: Iterable[tuple[str, str]],
    log_groups: Iterable[tuple[str, str]],
    metric_namespace: str,
) -> None:
    """``repositories``: (registry account, repository); ``log_groups``: (log group name,
    why its streams are unnamed), e.g. ("/aws/sagemaker/TrainingJobs", "one stream per
    instance"); ``metric_namespace``: the CloudWatch namespace pattern the role may publish to."""
    stack = cdk.Stack.of(role)
    images = sorted(
        stack.format_arn(service="ecr", account=account, resource="repository", resource_name=repository)
        for account, repository in repositories
    )
    role.add_to_policy(iam.PolicyStatement(actions=_PULL, resources=images))
    logs = []
    for name, reason in log_groups:
        arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"{name}:*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        acknowledge_wildcard(role, resource=arn, reason=reason)
        logs.append(arn)
    role.add_to_policy(iam.PolicyStatement(actions=_LOGS, resources=logs))
    acknowledge_wildcard(
        role, resource="*", reason="cloudwatch:PutMetricData and ecr:GetAuthorizationToken take no resource scope"
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": metric_namespace}},
        )
    )
    role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
