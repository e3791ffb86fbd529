"""One deployable environment (dev, staging or prod): its stacks, wired together."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.stacks.analytics_stack import AnalyticsStack
from infra.stacks.data_stack import DataStack
from infra.stacks.pipeline_stack import PipelineStack


class MlopsStage(cdk.Stage):
    def __init__(self, scope: Construct, config: EnvironmentConfig, promotion_accounts: tuple[str, ...] = ()) -> None:
        """``promotion_accounts``: accounts of the environments this one's models are promoted to."""
        env = cdk.Environment(account=config.account, region=config.region)
        super().__init__(scope, config.name, env=env)
        protect = config.removal_policy == "retain"
        self.data = DataStack(
            self,
            "Data",
            config=config,
            promotion_accounts=promotion_accounts,
            stack_name=f"{config.prefix}-data",
            description=f"{config.prefix}: KMS data lake, Glue catalog and crawler, feature store (stateful)",
            termination_protection=protect,
        )
        self.analytics = AnalyticsStack(
            self,
            "Analytics",
            config=config,
            data=self.data,
            stack_name=f"{config.prefix}-analytics",
            description=f"{config.prefix}: Athena workgroup and named queries",
        )
        self.pipeline = PipelineStack(
            self,
            "Pipeline",
            config=config,
            data=self.data,
            stack_name=f"{config.prefix}-pipeline",
            description=f"{config.prefix}: SageMaker training pipeline, its role and triggers",
        )
        for stack in (self.data, self.analytics, self.pipeline):
            cdk.Tags.of(stack).add("project", config.project)
            cdk.Tags.of(stack).add("environment", config.name)
