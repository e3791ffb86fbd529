"""Target tracking on invocations per instance for the endpoint's variant."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import AutoscalingConfig


class EndpointAutoscaling(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, endpoint_name: str, variant: str, config: AutoscalingConfig
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        # Application Auto Scaling's service-linked role for SageMaker (created on first use
        # by AWS); naming it keeps CDK from creating a broader role of its own.
        role = iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            stack.format_arn(
                service="iam",
                region="",
                resource="role",
                resource_name="aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
                "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
            ),
        )
        self.target = autoscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=config.min_instances,
            max_capacity=config.max_instances,
            role=role,
        )
        self.target.scale_to_track_metric(
            "InvocationsPerInstance",
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            target_value=config.target_invocations_per_instance,
            scale_in_cooldown=cdk.Duration.seconds(config.scale_in_cooldown_seconds),
            scale_out_cooldown=cdk.Duration.seconds(config.scale_out_cooldown_seconds),
        )
