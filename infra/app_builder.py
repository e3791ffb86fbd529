"""Builds the whole CDK app from cdk.json context; app.py and the tests both call this."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import (
    CHALLENGER_PACKAGE_CONTEXT,
    ENVIRONMENT_NAMES,
    MODEL_PACKAGE_CONTEXT,
    load_config,
    load_delivery_config,
)
from infra.scanner_metadata import SdkCallProviderAcknowledgements
from infra.stacks.delivery_stack import DELIVERY_STACK_ID, DeliveryStack
from infra.stage import MlopsStage


def model_package_overrides(app: cdk.App, prefix: str = MODEL_PACKAGE_CONTEXT) -> dict[str, str]:
    """``-c <prefix><env>=<arn>`` values: the champion's (default) or the challenger's package."""
    found = {name: app.node.try_get_context(prefix + name) for name in ENVIRONMENT_NAMES}
    return {name: arn for name, arn in found.items() if arn}


def build_app(app: cdk.App, extend: Callable[[dict[str, MlopsStage]], None] | None = None) -> dict[str, MlopsStage]:
    """Add one stage per environment, the delivery pipeline deploying them, and the cdk-nag
    AwsSolutions gate to ``app``; returns the stages (the pipeline stack is ``Delivery``).

    CDK Pipelines synthesizes each stage when it adds it to the delivery pipeline, after
    which a stage can no longer change: ``extend`` is the place to add to the stages first.
    """
    context = app.node.try_get_context("mlops")
    configs = load_config(
        context,
        model_package_arns=model_package_overrides(app),
        challenger_package_arns=model_package_overrides(app, CHALLENGER_PACKAGE_CONTEXT),
    )
    delivery = load_delivery_config(context)
    order = list(configs.values())  # dev, staging, prod: the promotion order
    # Every environment serves packages registered by the first one's pipeline (dev), which
    # therefore shares its registry and artifacts with the accounts promoted to.
    source = order[0]
    downstream = tuple(dict.fromkeys(c.account for c in order[1:] if c.account != source.account))
    stages = {}
    for config in order:
        shared = downstream if config is source else ()
        stages[config.name] = MlopsStage(
            app, config, source=source, delivery_account=delivery.account, promotion_accounts=shared
        )
    if extend is not None:
        extend(stages)
    # What checkov and cfn_nag raise on CDK's SDK-call providers, acknowledged in each template
    # (here: aspects do not cross stage boundaries, and the pipeline synthesizes each stage).
    for stage in stages.values():
        cdk.Aspects.of(stage).add(SdkCallProviderAcknowledgements())
    DeliveryStack(
        app,
        DELIVERY_STACK_ID,
        config=delivery,
        stages=[(stages[c.name], c) for c in order],
        env=cdk.Environment(account=delivery.account, region=delivery.region),
        stack_name=delivery.pipeline_name,
        description=f"{delivery.project}: CI/CD pipeline, dev -> staging -> approval -> prod",
    )
    # cdk-nag 3 is a validation plugin: any unacknowledged finding fails synth.
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stages
