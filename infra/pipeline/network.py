"""Where a pipeline's jobs and models run: the environment's private subnets and security groups.

Values may be CDK tokens (imported from the network stack); the SDK passes them through.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.network import NetworkConfig


@dataclass(frozen=True)
class JobNetwork:
    subnet_ids: tuple[str, ...]
    jobs_security_group: str  # processing and training (self-referencing for multi-node DDP)
    models_security_group: str  # endpoint and transform models

    def model_vpc_config(self) -> dict[str, list[str]]:
        """A model's VpcConfig, as the SDK's Model takes it."""
        return {"Subnets": list(self.subnet_ids), "SecurityGroupIds": [self.models_security_group]}


def processing_network(network: JobNetwork | None, *, isolated: bool) -> NetworkConfig | None:
    """In the private subnets; ``isolated``: the job needs no AWS call (SageMaker stages its
    inputs and outputs), so it gets no network at all. Traffic between instances is encrypted.
    None with networking off: the job is defined exactly as before networking existed."""
    if network is None:
        return None
    return NetworkConfig(
        enable_network_isolation=isolated,
        encrypt_inter_container_traffic=True,
        subnets=list(network.subnet_ids),
        security_group_ids=[network.jobs_security_group],
    )
