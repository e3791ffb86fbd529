"""Builds the whole CDK app from cdk.json context; app.py and the tests both call this."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import load_config
from infra.stage import MlopsStage


def build_app(app: cdk.App) -> dict[str, MlopsStage]:
    """Add one stage per environment and the cdk-nag AwsSolutions gate to ``app``."""
    configs = load_config(app.node.try_get_context("mlops"))
    order = list(configs.values())  # dev, staging, prod: the promotion order
    stages = {}
    for index, config in enumerate(order):
        downstream = tuple(dict.fromkeys(c.account for c in order[index + 1 :] if c.account != config.account))
        stages[config.name] = MlopsStage(app, config, promotion_accounts=downstream)
    # cdk-nag 3 is a validation plugin: any unacknowledged finding fails synth.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stages
