"""CreateModel and CreateEndpointConfig requests that copy CloudFormation's resources.

The endpoint's model and config are built by CloudFormation (role, environment, data
capture, KMS keys, instance type and count). A deployment changes exactly one thing, the
model package, so it copies the current resources from their Describe* output instead of
restating their settings here, where they would drift from the stack's.
"""

from __future__ import annotations

from typing import Any


class UnsupportedEndpoint(RuntimeError):
    """The endpoint's shape is not the single-model, single-variant one this function clones."""


# Model-level settings copied as they are.
MODEL_SETTINGS = ("ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation", "InferenceExecutionConfig")
# Container settings copied; Image, ModelDataUrl, ModelDataSource and InferenceSpecificationName
# describe the old artifact and are left out: with ModelPackageName the package supplies them.
CONTAINER_SETTINGS = ("ContainerHostname", "Mode", "Environment", "MultiModelConfig", "ContainerMetricsConfig")
# Endpoint-config settings copied as they are (DescribeEndpointConfig and CreateEndpointConfig share them).
CONFIG_SETTINGS = (
    "DataCaptureConfig",
    "KmsKeyId",
    "AsyncInferenceConfig",
    "ExplainerConfig",
    "ShadowProductionVariants",
    "ExecutionRoleArn",
    "VpcConfig",
    "EnableNetworkIsolation",
    "MetricsConfig",
)


def _copy(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: source[key] for key in keys if source.get(key) is not None}


def container_of(model: dict[str, Any]) -> dict[str, Any]:
    """The model's one container: CloudFormation may have written it either way."""
    if model.get("PrimaryContainer"):
        primary: dict[str, Any] = model["PrimaryContainer"]
        return primary
    containers: list[dict[str, Any]] = model.get("Containers") or []
    if len(containers) != 1:
        raise UnsupportedEndpoint(f"model {model.get('ModelName')} has {len(containers)} containers, expected 1")
    return containers[0]


def variant_of(config: dict[str, Any]) -> dict[str, Any]:
    variants: list[dict[str, Any]] = config.get("ProductionVariants") or []
    if len(variants) != 1:
        raise UnsupportedEndpoint(
            f"endpoint config {config.get('EndpointConfigName')} has {len(variants)} production variants, expected 1"
        )
    return variants[0]


def user_tags(tags: list[dict[str, str]]) -> list[dict[str, str]]:
    # CloudFormation's aws:* tags are reserved: Create* calls reject them.
    return [tag for tag in tags if not tag["Key"].startswith("aws:")]


def model_request(model: dict[str, Any], name: str, package_arn: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    container = {**_copy(container_of(model), CONTAINER_SETTINGS), "ModelPackageName": package_arn}
    request = {"ModelName": name, **_copy(model, MODEL_SETTINGS)}
    if model.get("PrimaryContainer"):
        request["PrimaryContainer"] = container
    else:
        request["Containers"] = [container]
    if tags:
        request["Tags"] = tags
    return request


def endpoint_config_request(
    config: dict[str, Any], name: str, model_name: str, tags: list[dict[str, str]]
) -> dict[str, Any]:
    # The whole variant is kept (instance type and count, volume, timeouts); only its model changes.
    variant = {**variant_of(config), "ModelName": model_name}
    request = {"EndpointConfigName": name, "ProductionVariants": [variant], **_copy(config, CONFIG_SETTINGS)}
    if tags:
        request["Tags"] = tags
    return request


# A challenger beside the champion: shadow (it gets a copy of a share of the requests and answers
# nobody) or A/B (it answers that share). The champion keeps CloudFormation's variant name.
CHALLENGER = "Challenger"
SHADOW, AB = "shadow", "ab"


def champion_variant(config: dict[str, Any]) -> dict[str, Any]:
    """The one production variant that is not the challenger."""
    production: list[dict[str, Any]] = config.get("ProductionVariants") or []
    variants = [v for v in production if v.get("VariantName") != CHALLENGER]
    if len(variants) != 1:
        raise UnsupportedEndpoint(
            f"endpoint config {config.get('EndpointConfigName')} has {len(variants)} production variants "
            f"besides {CHALLENGER}, expected 1"
        )
    return variants[0]


def challenger_variant(config: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """(the challenger's variant, shadow or ab), or None when no test runs."""
    for key, mode in (("ShadowProductionVariants", SHADOW), ("ProductionVariants", AB)):
        variants: list[dict[str, Any]] = config.get(key) or []
        for variant in variants:
            if variant.get("VariantName") == CHALLENGER:
                return variant, mode
    return None


def challenger_weights(champion_weight: float, mode: str, percent: int) -> tuple[float, float]:
    """(champion's weight, challenger's weight) for ``percent`` % of the requests.

    Shadow: SageMaker copies to the shadow variant the share of requests given by the ratio of
    its weight to the production variant's, whose own weight is left as it is. A/B: the two
    production variants split the requests by their weights.
    """
    if mode == SHADOW:
        return champion_weight, round(champion_weight * percent / 100, 6)
    return round((100 - percent) / 100, 6), round(percent / 100, 6)


def _other_settings(config: dict[str, Any]) -> dict[str, Any]:
    # Data capture, keys, network... as they are; the variants are stated by the caller.
    return _copy(config, tuple(key for key in CONFIG_SETTINGS if key != "ShadowProductionVariants"))


def challenger_config_request(
    config: dict[str, Any], name: str, model_name: str, mode: str, percent: int, tags: list[dict[str, str]]
) -> dict[str, Any]:
    """The champion's variant unchanged (A/B: its weight lowered) plus a ``Challenger`` variant
    serving ``model_name`` on the same instances; a challenger already there is replaced."""
    champion = champion_variant(config)
    champion_weight, challenger_weight = challenger_weights(
        float(champion.get("InitialVariantWeight", 1.0)), mode, percent
    )
    challenger = {
        **champion,
        "VariantName": CHALLENGER,
        "ModelName": model_name,
        "InitialVariantWeight": challenger_weight,
    }
    request: dict[str, Any] = {"EndpointConfigName": name}
    if mode == SHADOW:
        request["ProductionVariants"] = [champion]
        request["ShadowProductionVariants"] = [challenger]
    else:
        request["ProductionVariants"] = [{**champion, "InitialVariantWeight": champion_weight}, challenger]
    request.update(_other_settings(config))
    if tags:
        request["Tags"] = tags
    return request


def winner_config_request(
    config: dict[str, Any], name: str, winner: dict[str, Any], tags: list[dict[str, str]]
) -> dict[str, Any]:
    """The end of a test: ``winner``'s variant alone, under the champion's variant name (a
    blue/green update keeps variant names) with all the traffic, the challenger gone."""
    variant = {**winner, "VariantName": champion_variant(config)["VariantName"], "InitialVariantWeight": 1.0}
    request = {"EndpointConfigName": name, "ProductionVariants": [variant], **_other_settings(config)}
    if tags:
        request["Tags"] = tags
    return request
