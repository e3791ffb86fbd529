"""The role the delivery pipeline assumes in an environment to check what it deployed."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.nag import acknowledge_wildcard


def delivery_checks_role_name(config: EnvironmentConfig) -> str:
    """Fixed, so the pipeline in another account can name it without a cross-stack reference."""
    return f"{config.prefix}-delivery-checks"


class DeliveryChecksRole(Construct):
    """Read-only checks after a deploy (tools/endpoint_check.py, tools/pipeline_drift.py) and
    the promotion lookup (tools/promotion.py), for principals of ``delivery_account`` only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        delivery_account: str,
        source: EnvironmentConfig,
    ) -> None:
        """``source``: the environment whose registry the served packages come from (dev)."""
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Role",
            role_name=delivery_checks_role_name(config),
            assumed_by=iam.AccountPrincipal(delivery_account),
            description=f"Post-deploy checks of {config.prefix}, assumed by the delivery pipeline",
            max_session_duration=cdk.Duration.hours(1),
        )
        role = self.role

        def allow(actions: list[str], arns: list[str], reason: str | None = None) -> None:
            for arn in arns:
                if reason:
                    acknowledge_wildcard(role, resource=arn, reason=reason)
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns))

        sagemaker = lambda kind, name: stack.format_arn(service="sagemaker", resource=kind, resource_name=name)  # noqa: E731
        allow(["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], [sagemaker("endpoint", config.endpoint_name)])
        allow(
            ["sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
            [sagemaker("endpoint-config", "*"), sagemaker("model", "*")],
            "Read-only; CloudFormation generates the endpoint's config and model names",
        )
        allow(["sagemaker:DescribePipeline"], [sagemaker("pipeline", config.pipeline_name)])
        packages = stack.format_arn(
            service="sagemaker",
            account=source.account,
            region=source.region,
            resource="model-package",
            resource_name=f"{source.model_package_group_name}/*",
        )
        allow(["sagemaker:DescribeModelPackage"], [packages], "Any version of the source group")
        parameter = stack.format_arn(
            service="ssm", resource="parameter", resource_name=config.served_model_parameter.lstrip("/")
        )
        allow(["ssm:GetParameter", "ssm:GetParameterHistory"], [parameter])
        pipeline_stack = stack.format_arn(
            service="cloudformation", resource="stack", resource_name=f"{config.prefix}-pipeline/*"
        )
        allow(["cloudformation:DescribeStackResources"], [pipeline_stack], "The stack's id suffix is generated")
        allow(["cloudformation:ListExports"], ["*"], "cloudformation:ListExports supports no resource scope")
