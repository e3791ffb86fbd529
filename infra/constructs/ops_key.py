"""The KMS key of a stateless stack's notifications, logs and dead letters."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


def ops_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: cdk.RemovalPolicy,
    publishers: tuple[str, ...] = ("events",),
) -> kms.Key:
    """A rotating key the given AWS services (``events``, ``cloudwatch``) may encrypt SNS
    messages with, and this region's CloudWatch Logs may use for this account's log groups.
    ``removal_policy``: the environment's, like the log groups it encrypts."""
    stack = cdk.Stack.of(scope)
    key = kms.Key(scope, construct_id, enable_key_rotation=True, description=description, removal_policy=removal_policy)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"{service}.amazonaws.com") for service in publishers],
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=["*"],  # in a key policy, "*" means this key
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key
