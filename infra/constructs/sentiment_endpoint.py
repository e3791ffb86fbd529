"""The real-time endpoint: a model from an approved package (and a challenger under test),
data capture, blue/green rollout."""

from __future__ import annotations

from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.config import ServingConfig
from infra.constructs.endpoint_variants import package_model, variants
from infra.instance_storage import volume_kms_key
from infra.pipeline.compare_definition import CHAMPION_VARIANT
from infra.pipeline.network import JobNetwork

VARIANT = CHAMPION_VARIANT
# What data capture records by content type; the record preprocessor parses both kinds.
JSON_CONTENT_TYPES = ["application/json", "application/jsonlines"]
CSV_CONTENT_TYPES = ["text/csv"]


def _traffic_routing(rollout) -> sagemaker.CfnEndpoint.TrafficRoutingConfigProperty:
    if rollout.strategy == "all_at_once":
        return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
            type="ALL_AT_ONCE", wait_interval_in_seconds=rollout.wait_seconds
        )
    step = sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=rollout.step_percent)
    return sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
        type=rollout.strategy.upper(),
        wait_interval_in_seconds=rollout.wait_seconds,
        canary_size=step if rollout.strategy == "canary" else None,
        linear_step_size=step if rollout.strategy == "linear" else None,
    )


class SentimentEndpoint(Construct):
    """``rollback_alarm_names``: alarms that, in ALARM during a rollout, make SageMaker roll back."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        config: ServingConfig,
        role_arn: str,
        capture_uri: str,
        key_arn: str,
        rollback_alarm_names: list[str],
        network: JobNetwork | None = None,
    ) -> None:
        # Both only fail at deploy time otherwise: a model without a package or image, and
        # SageMaker's AutoRollbackConfiguration takes 1 to 10 alarms.
        if not config.model_package_arn:
            raise ValueError("config.model_package_arn: an endpoint needs a model package to serve")
        if not 1 <= len(rollback_alarm_names) <= 10:
            raise ValueError(f"rollback_alarm_names: SageMaker takes 1 to 10 alarms, got {len(rollback_alarm_names)}")
        super().__init__(scope, construct_id)
        self.endpoint_name = endpoint_name
        self.model = package_model(
            self, "Model", package_arn=config.model_package_arn, config=config, role_arn=role_arn, network=network
        )
        challenger = config.challenger
        self.challenger_model = (
            package_model(
                self,
                "ChallengerModel",
                package_arn=challenger.package_arn,
                config=config,
                role_arn=role_arn,
                network=network,
            )
            if challenger.active and challenger.package_arn
            else None
        )
        production, shadow = variants(config, self.model, self.challenger_model)
        self.config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            production_variants=production,
            shadow_production_variants=shadow or None,
            data_capture_config=sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=True,
                initial_sampling_percentage=config.data_capture_percentage,
                destination_s3_uri=capture_uri,
                kms_key_id=key_arn,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode) for mode in ("Input", "Output")
                ],
                capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    json_content_types=JSON_CONTENT_TYPES,
                    csv_content_types=CSV_CONTENT_TYPES,
                ),
            ),
            kms_key_id=volume_kms_key(config.instance_type, key_arn),
        )
        rollout = config.rollout
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.config.attr_endpoint_config_name,
            # Guarded rollouts need the same variants before and after: with a challenger on the
            # endpoint, updates (starting, changing or ending a test) use SageMaker's default
            # blue/green swap; the champion's own rollouts are guarded again once it serves alone.
            deployment_config=None
            if self.challenger_model
            else sagemaker.CfnEndpoint.DeploymentConfigProperty(
                blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                    traffic_routing_configuration=_traffic_routing(rollout),
                    termination_wait_in_seconds=rollout.termination_wait_seconds,
                    # Room for every step's baking time plus provisioning the new fleet.
                    maximum_execution_timeout_in_seconds=min(
                        28800, 1800 + rollout.wait_seconds * (100 // rollout.step_percent + 1)
                    ),
                ),
                auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                    alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name) for name in rollback_alarm_names]
                ),
            ),
        )
