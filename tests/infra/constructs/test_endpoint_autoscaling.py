"""EndpointAutoscaling on its own.

Props (all required): ``endpoint_name``, ``variant``, ``config`` (AutoscalingConfig; min
above max fails synthesis). Target tracking on invocations per instance, through
Application Auto Scaling's service-linked role (no role of CDK's own).
"""

from __future__ import annotations

import dataclasses

import pytest
from aws_cdk.assertions import Template

from infra.constructs.endpoint_autoscaling import EndpointAutoscaling
from tests.infra.constructs.conftest import make_config

SCALING = make_config().serving.autoscaling


def build(stack, config=SCALING) -> Template:
    EndpointAutoscaling(stack, "Scaling", endpoint_name="demo-test-sentiment", variant="AllTraffic", config=config)
    return Template.from_stack(stack)


def test_scales_the_variant_between_the_bounds_with_the_service_linked_role(stack):
    template = build(stack)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ServiceNamespace": "sagemaker",
            "ResourceId": "endpoint/demo-test-sentiment/variant/AllTraffic",
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "MinCapacity": 2,
            "MaxCapacity": 4,
            "RoleARN": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":iam::123456789012:role/aws-service-role/"
                        "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                    ],
                ]
            },
        },
    )
    template.resource_count_is("AWS::IAM::Role", 0)
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                "TargetValue": 50,
                "ScaleInCooldown": 301,
                "ScaleOutCooldown": 61,
            },
        },
    )


def test_min_above_max_fails(stack):
    with pytest.raises(RuntimeError, match="minCapacity"):
        build(stack, dataclasses.replace(SCALING, min_instances=5, max_instances=2))
