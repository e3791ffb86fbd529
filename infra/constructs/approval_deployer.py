"""Approving a model package updates the endpoint at once (lambdas/deploy_model).

Two EventBridge rules feed one function: an Approved package of this environment's
group starts a blue/green update of the endpoint; the endpoint's next state change
verifies that it really serves the new config (SageMaker's alarm-based rollback would
otherwise leave the old model serving silently) and records the served package.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.pipeline_triggers import MODEL_PACKAGE_STATE_CHANGE
from infra.constructs.private_network import FunctionPlacement
from infra.constructs.python_lambda import PythonLambda
from infra.nag import acknowledge_wildcard
from infra.removal import removal_policy

ENDPOINT_STATE_CHANGE = "SageMaker Endpoint State Change"


class ApprovalDeployer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        key: kms.IKey,
        topic: sns.ITopic,
        model_role_arn: str | None,
        lake_key_arn: str,
        placement: FunctionPlacement | None = None,
    ) -> None:
        """``model_role_arn``: the endpoint's model role, passed to the models it creates
        (None until the endpoint exists; the function then only reports). ``lake_key_arn``:
        the key of the endpoint config's volume and captured data, which SageMaker checks
        the caller of CreateEndpointConfig and UpdateEndpoint may use."""
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        endpoint, group = config.endpoint_name, config.model_package_group_name
        challenger = config.serving.challenger
        self.function = PythonLambda(
            self,
            "Function",
            name="deploy_model",
            # A fixed name: operators invoke it (python -m tools.challenger end --env dev ...).
            function_name=f"{config.prefix}-deploy-model",
            key=key,
            removal_policy=removal_policy(config),
            environment={
                "MODEL_PACKAGE_GROUP_NAME": group,
                "ENDPOINT_NAME": endpoint,
                "SERVED_MODEL_PARAMETER": config.served_model_parameter,
                "TOPIC_ARN": topic.topic_arn,
                # serving.challenger.deploy_approved_as_challenger: an approved package joins as
                # the challenger (shadow or A/B) instead of replacing the champion.
                "CHALLENGER_MODE": challenger.mode if challenger.deploy_approved_as_challenger else "off",
                "CHALLENGER_TRAFFIC_PERCENT": str(challenger.traffic_percent),
            },
            **(placement.props() if placement else {}),
        )
        role = self.function.role

        def allow(actions: list[str], arns: list[str], reason: str | None = None, **conditions) -> None:
            for arn in arns:
                if reason and "*" in arn:
                    acknowledge_wildcard(role, resource=arn, reason=reason)
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        sagemaker = lambda kind, name: stack.format_arn(service="sagemaker", resource=kind, resource_name=name)  # noqa: E731
        allow(
            ["sagemaker:DescribeModelPackage"], [sagemaker("model-package", f"{group}/*")], "Any version of this group"
        )
        # Clones are named <endpoint>-v<version>-<hash> (lambdas/deploy_model/names.py).
        clone = "Models and configs cloned per package version, named <endpoint>-v<version>-<hash>"
        model_clones, config_clones = (
            sagemaker("model", f"{endpoint}-v*"),
            sagemaker("endpoint-config", f"{endpoint}-v*"),
        )
        allow(["sagemaker:DescribeEndpoint"], [sagemaker("endpoint", endpoint)])
        # IAM authorizes UpdateEndpoint against the endpoint and the config it switches to.
        allow(["sagemaker:UpdateEndpoint"], [sagemaker("endpoint", endpoint), config_clones], clone)
        allow(
            ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:AddTags"],
            [model_clones, config_clones],
            clone,
        )
        # The current model and config (CloudFormation generates their names) are read to be cloned.
        allow(
            ["sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel", "sagemaker:ListTags"],
            [sagemaker("endpoint-config", "*"), sagemaker("model", "*")],
            "CloudFormation names the original model and config; only read",
        )
        if model_role_arn:
            allow(["iam:PassRole"], [model_role_arn], StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"})
        parameter = stack.format_arn(
            service="ssm", resource="parameter", resource_name=config.served_model_parameter.lstrip("/")
        )
        allow(["ssm:PutParameter"], [parameter])
        allow(["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"], [f"{parameter}/pending"])
        allow(
            ["kms:CreateGrant", "kms:DescribeKey"],
            [lake_key_arn],
            StringEquals={"kms:ViaService": f"sagemaker.{stack.region}.amazonaws.com"},
        )
        topic.grant_publish(role)

        def rule(rule_id: str, description: str, pattern: events.EventPattern) -> events.Rule:
            return events.Rule(
                self,
                rule_id,
                description=description,
                event_pattern=pattern,
                targets=[
                    targets.LambdaFunction(
                        self.function.function, dead_letter_queue=self.function.dead_letters, retry_attempts=4
                    )
                ],
            )

        rule(
            "Approved",
            "An approved package of this group: update the endpoint",
            events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[MODEL_PACKAGE_STATE_CHANGE],
                detail={"ModelPackageGroupName": [group], "ModelApprovalStatus": ["Approved"]},
            ),
        )
        rule(
            "EndpointChanged",
            "The endpoint settled after an update: verify what it serves",
            events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[ENDPOINT_STATE_CHANGE],
                detail={"EndpointName": [endpoint]},
            ),
        )
