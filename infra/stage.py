"""One deployable environment (dev, staging or prod): its stacks, wired together."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.stacks.analytics_stack import AnalyticsStack
from infra.stacks.data_stack import DataStack
from infra.stacks.network_stack import NetworkStack
from infra.stacks.pipeline_stack import PipelineStack
from infra.stacks.serving_stack import ServingStack


class MlopsStage(cdk.Stage):
    def __init__(
        self,
        scope: Construct,
        config: EnvironmentConfig,
        *,
        source: EnvironmentConfig,
        delivery_account: str,
        promotion_accounts: tuple[str, ...] = (),
    ) -> None:
        """``source``: the environment whose registry the served packages come from (dev);
        ``delivery_account``: the account of the delivery pipeline, trusted to run checks;
        ``promotion_accounts``: accounts of the environments this one's models are promoted to."""
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
        # Staging and prod ship with private networking (network.mode in cdk.json).
        self.network = (
            NetworkStack(
                self,
                "Network",
                config=config,
                data=self.data,
                artifacts=ArtifactSource.of(source),
                stack_name=f"{config.prefix}-network",
                description=f"{config.prefix}: private subnets, VPC endpoints and security groups",
            )
            if config.network.enabled
            else None
        )
        job_network = self.network.job_network if self.network else None
        functions = self.network.network.function_placement if self.network else None
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
            source=source,
            network=job_network,
            functions=functions,
            stack_name=f"{config.prefix}-pipeline",
            description=f"{config.prefix}: SageMaker training pipeline, its role and triggers",
        )
        self.serving = ServingStack(
            self,
            "Serving",
            config=config,
            data=self.data,
            pipeline=self.pipeline,
            artifacts=ArtifactSource.of(source),
            source=source,
            delivery_account=delivery_account,
            network=job_network,
            functions=functions,
            stack_name=f"{config.prefix}-serving",
            description=f"{config.prefix}: real-time endpoint, rollout, autoscaling and monitoring",
        )
        stacks = (self.data, self.network, self.analytics, self.pipeline, self.serving)
        for stack in (s for s in stacks if s is not None):
            cdk.Tags.of(stack).add("project", config.project)
            cdk.Tags.of(stack).add("environment", config.name)
