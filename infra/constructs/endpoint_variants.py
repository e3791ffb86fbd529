"""The endpoint's models and variants: the champion, and a challenger under test.

``serving.challenger.mode`` "shadow": the challenger is a shadow variant; SageMaker copies a
share of the champion's requests to it (the ratio of the two variants' weights) and only the
champion answers. "ab": two production variants, weighted, each answering its share. Both
variants' requests and responses are captured under their own variant name.
"""

from __future__ import annotations

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import ServingConfig
from infra.pipeline.compare_definition import CHALLENGER_VARIANT, CHAMPION_VARIANT
from infra.pipeline.network import JobNetwork
from ml_code.inference import MAX_CHARS_ENV, MAX_TEXTS_ENV

_VARIANT = sagemaker.CfnEndpointConfig.ProductionVariantProperty


def package_model(
    scope: Construct,
    construct_id: str,
    *,
    package_arn: str,
    config: ServingConfig,
    role_arn: str,
    network: JobNetwork | None,
) -> sagemaker.CfnModel:
    """A model serving ``package_arn`` with the handler's limits. Where networking is on: in
    the private subnets, and isolated, since the handler needs nothing but its model directory
    (the deploy function's clones keep both settings)."""
    return sagemaker.CfnModel(
        scope,
        construct_id,
        execution_role_arn=role_arn,
        enable_network_isolation=True if network else None,
        vpc_config=sagemaker.CfnModel.VpcConfigProperty(
            security_group_ids=[network.models_security_group], subnets=list(network.subnet_ids)
        )
        if network
        else None,
        containers=[
            sagemaker.CfnModel.ContainerDefinitionProperty(
                model_package_name=package_arn,
                # The handler's request limits (ml_code/inference.py reads them).
                environment={
                    MAX_TEXTS_ENV: str(config.max_texts_per_request),
                    MAX_CHARS_ENV: str(config.max_chars_per_text),
                },
            )
        ],
    )


def variants(
    config: ServingConfig, champion: sagemaker.CfnModel, challenger: sagemaker.CfnModel | None
) -> tuple[list[_VARIANT], list[_VARIANT]]:
    """(production variants, shadow variants) of the endpoint config. The challenger runs on
    the champion's instance type (GPU where the champion is) and count."""

    def variant(name: str, model: sagemaker.CfnModel, weight: float) -> _VARIANT:
        return _VARIANT(
            variant_name=name,
            model_name=model.attr_model_name,
            instance_type=config.instance_type,
            initial_instance_count=config.instance_count,
            initial_variant_weight=weight,
        )

    share = config.challenger.traffic_percent / 100
    if challenger is None:
        return [variant(CHAMPION_VARIANT, champion, 1)], []
    if config.challenger.mode == "shadow":
        return [variant(CHAMPION_VARIANT, champion, 1)], [variant(CHALLENGER_VARIANT, challenger, share)]
    return [
        variant(CHAMPION_VARIANT, champion, round(1 - share, 4)),
        variant(CHALLENGER_VARIANT, challenger, share),
    ], []
