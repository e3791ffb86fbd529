"""The environment's removal policy (cdk.json ``removal_policy``) as CDK's enum."""

from __future__ import annotations

import aws_cdk as cdk

from infra.config import EnvironmentConfig


def removal_policy(config: EnvironmentConfig) -> cdk.RemovalPolicy:
    """DESTROY where the environment may be torn down whole (dev), RETAIN elsewhere."""
    return cdk.RemovalPolicy.DESTROY if config.removal_policy == "destroy" else cdk.RemovalPolicy.RETAIN
