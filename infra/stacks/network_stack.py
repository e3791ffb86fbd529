"""The environment's private network (network.mode "create" or "existing"): VPC, endpoints, groups.

Its own stack: the pipeline and serving stacks place their jobs, models and functions in it,
and it changes rarely. Only synthesized where config turns networking on.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.ops_key import ops_key
from infra.constructs.private_network import PrivateNetwork
from infra.pipeline.network import JobNetwork
from infra.removal import removal_policy
from infra.stacks.data_stack import DataStack


class NetworkStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        artifacts: ArtifactSource,
        **kwargs,
    ) -> None:
        """``artifacts``: where served packages live (dev's models bucket): the S3 endpoint admits it."""
        self._zones = list(config.network.availability_zones)
        super().__init__(scope, construct_id, **kwargs)
        lake = data.lake
        self.key = ops_key(
            self, "Key", description=f"{config.prefix} VPC flow logs", removal_policy=removal_policy(config)
        )
        self.network = PrivateNetwork(
            self,
            "Private",
            config=config.network,
            prefix=config.prefix,
            key=self.key,
            bucket_names=[
                lake.raw.bucket_name,
                lake.features.bucket_name,
                lake.models.bucket_name,
                lake.monitoring.bucket_name,
                artifacts.bucket_name,
            ],
            parameter_path=f"/{config.project}/{config.name}/",
            removal_policy=removal_policy(config),
        )

    @property
    def availability_zones(self) -> list[str]:
        """The configured zones: the Vpc checks its zones against the stack's, which would
        otherwise be an availability-zones context lookup (an AWS call at synth)."""
        return self._zones

    @property
    def job_network(self) -> JobNetwork:
        """What the SageMaker pipelines and models need to run in the private subnets."""
        n = self.network
        return JobNetwork(
            subnet_ids=tuple(n.subnet_ids),
            jobs_security_group=n.jobs.security_group_id,
            models_security_group=n.models.security_group_id,
        )
