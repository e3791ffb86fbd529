"""cdk.json parsing: the real file loads, and every kind of bad value fails naming its key."""

from __future__ import annotations

import copy
import re

import pytest

from infra.config import ENVIRONMENT_NAMES, ConfigError, load_config


@pytest.fixture()
def mlops(cdk_context) -> dict:
    return copy.deepcopy(cdk_context["mlops"])


def test_real_cdk_json_parses_into_three_frozen_environments(mlops):
    configs = load_config(mlops)
    assert list(configs) == list(ENVIRONMENT_NAMES)
    dev, prod = configs["dev"], configs["prod"]
    assert dev.removal_policy == "destroy" and prod.removal_policy == "retain"
    assert configs["staging"].removal_policy == "retain"
    assert dev.prefix == "roberta-sentiment-dev"
    assert dev.catalog.crawler_schedule is None and prod.catalog.crawler_schedule.startswith("cron(")
    assert dev.pipeline.retrain_schedule is None
    assert isinstance(prod.pipeline.min_accuracy, float)
    with pytest.raises(AttributeError):
        dev.region = "eu-west-1"  # frozen


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("dev", "account"), "12345", "mlops.environments.dev.account: expected a 12-digit AWS account id"),
        (("prod", "region"), "Mars", "mlops.environments.prod.region: expected an AWS region"),
        (("staging", "removal_policy"), "snapshot", "staging.removal_policy: expected one of retain, destroy"),
        (("dev", "training", "instance_count"), 0, "dev.training.instance_count: expected an integer from 1 to 100"),
        (("dev", "training", "instance_count"), True, "dev.training.instance_count: expected an integer"),
        (("dev", "processing", "instance_type"), "m5.xlarge", "dev.processing.instance_type: expected a SageMaker"),
        (("prod", "pipeline", "min_accuracy"), 1.5, "prod.pipeline.min_accuracy: expected a number from 0 to 1"),
        (("dev", "feature_store", "online_store_enabled"), "yes", "online_store_enabled: expected true or false"),
        (("dev", "catalog", "crawler_schedule"), "rate(1 day)", "crawler_schedule: expected cron("),
        (("dev", "pipeline", "retrain_schedule"), "daily", "retrain_schedule: expected cron("),
        (
            ("dev", "catalog", "athena_bytes_scanned_cutoff"),
            1024,
            "athena_bytes_scanned_cutoff: expected an integer >=",
        ),
        (("dev", "data_lake"), [], "mlops.environments.dev.data_lake: expected an object, got list"),
        (
            ("prod", "serving", "rollout", "strategy"),
            "big-bang",
            "prod.serving.rollout.strategy: expected one of canary, linear",
        ),
        (
            ("prod", "serving", "rollout", "step_percent"),
            80,
            "prod.serving.rollout.step_percent: expected an integer from 1 to 50",
        ),
        (
            ("staging", "serving", "data_capture_percentage"),
            101,
            "staging.serving.data_capture_percentage: expected an integer",
        ),
        (
            ("dev", "serving", "model_package_arn"),
            "latest",
            "dev.serving.model_package_arn: expected a model package ARN",
        ),
        (
            ("dev", "serving", "autoscaling", "min_instances"),
            3,
            "dev.serving.autoscaling.min_instances: above max_instances (1)",
        ),
        (("prod", "monitoring", "schedule"), "rate(1 hour)", "prod.monitoring.schedule: expected cron("),
        (
            ("prod", "monitoring", "ground_truth_s3_uri"),
            "labels/",
            "prod.monitoring.ground_truth_s3_uri: expected an s3:// URI",
        ),
        (
            ("prod", "monitoring", "engine"),
            "clarify",
            "prod.monitoring.engine: expected one of evidently, model_monitor",
        ),
        (("dev", "monitoring", "window_hours"), 0, "dev.monitoring.window_hours: expected an integer from 1 to 168"),
        (
            ("dev", "monitoring", "accuracy_alarm_margin"),
            2,
            "dev.monitoring.accuracy_alarm_margin: expected a number from 0 to 1",
        ),
        (
            ("dev", "pipeline", "max_facet_accuracy_gap"),
            -0.1,
            "dev.pipeline.max_facet_accuracy_gap: expected a number from 0 to 1",
        ),
        (("prod", "network", "mode"), "private", "prod.network.mode: expected one of none, create, existing"),
        (("prod", "network", "cidr"), "10.0.0.0/8", "prod.network.cidr: expected an IPv4 CIDR block from /16 to /24"),
        (
            ("staging", "network", "availability_zones"),
            ["us-east-1a"],
            "staging.network.availability_zones: expected a list of 2 to 3",
        ),
        (("staging", "batch_scoring", "enabled"), "no", "staging.batch_scoring.enabled: expected true or false"),
        (
            ("dev", "pipeline", "base_model"),
            "s3://roberta-sentiment-dev-models-111111111111/base-models/roberta-base/main",
            "dev.pipeline.base_model: expected a Hugging Face model id like roberta-base or an s3:// folder URI ending in /",
        ),
        (
            ("dev", "pipeline", "base_model"),
            "https://huggingface.co/roberta-base",
            "dev.pipeline.base_model: expected a Hugging Face model id",
        ),
        (
            ("staging", "pipeline", "base_model"),
            "s3://somewhere-else/base-models/roberta-base/main/",
            "staging.pipeline.base_model: expected a staged model folder under"
            " s3://roberta-sentiment-staging-models-222222222222/base-models/",
        ),
        (
            ("prod", "pipeline", "base_model"),
            "s3://roberta-sentiment-prod-models-333333333333/training/roberta-base/",
            "prod.pipeline.base_model: expected a staged model folder under",
        ),
        (
            ("prod", "serving", "instance_type"),
            "ml.p3.2xlarge",
            "prod.serving.instance_type: expected one the registered model packages allow",
        ),
        (("dev", "tracking", "enabled"), "yes", "dev.tracking.enabled: expected true or false"),
        (
            ("prod", "tracking", "removal_policy"),
            "keep",
            "prod.tracking.removal_policy: expected one of retain, destroy",
        ),
        (
            ("staging", "tracking", "weekly_maintenance_window"),
            "Sunday:03:00",
            "staging.tracking.weekly_maintenance_window: expected a UTC day and time like Sun:03:00",
        ),
        (("prod", "tracking", "weekly_maintenance_window"), "Sun:24:00", "prod.tracking.weekly_maintenance_window:"),
        (("dev", "tracking", "model_registration"), 0, "dev.tracking.model_registration: expected true or false"),
        (("dev", "tracking"), "on", "mlops.environments.dev.tracking: expected an object, got str"),
    ],
)
def test_invalid_value_fails_naming_environment_and_key(mlops, path, value, message):
    env, *keys = path
    target = mlops["environments"][env]
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    with pytest.raises(ConfigError, match=re.escape(message)) as error:
        load_config(mlops)
    assert str(error.value).startswith(f"context.mlops.environments.{env}.")


def test_base_model_is_a_hub_id_in_dev_and_staged_in_s3_elsewhere(mlops):
    from infra.config import is_staged_model

    configs = load_config(mlops)
    assert configs["dev"].pipeline.base_model == "roberta-base"
    assert not is_staged_model(configs["dev"].pipeline.base_model)
    for name in ("staging", "prod"):
        config = configs[name]
        assert is_staged_model(config.pipeline.base_model)
        assert config.pipeline.base_model.startswith(f"s3://{config.models_bucket_name}/base-models/roberta-base/")
    mlops["environments"]["dev"]["pipeline"]["base_model"] = "FacebookAI/roberta-base"
    assert load_config(mlops)["dev"].pipeline.base_model == "FacebookAI/roberta-base"


def test_missing_key_is_named(mlops):
    del mlops["environments"]["staging"]["data_lake"]["athena_results_expiration_days"]
    with pytest.raises(ConfigError, match=r"staging\.data_lake\.athena_results_expiration_days: missing"):
        load_config(mlops)


def test_unknown_key_is_rejected_as_a_probable_typo(mlops):
    mlops["environments"]["prod"]["training"]["use_spots"] = True
    with pytest.raises(ConfigError, match=r"prod\.training: unknown key\(s\) use_spots"):
        load_config(mlops)


def test_missing_environment_is_named(mlops):
    del mlops["environments"]["prod"]
    with pytest.raises(ConfigError, match=r"environments: missing prod"):
        load_config(mlops)


def test_absent_context_fails_clearly():
    with pytest.raises(ConfigError, match=r"context.mlops: expected an object, got NoneType"):
        load_config(None)


def test_serving_defaults_gpu_outside_dev_and_no_package_until_one_is_given(mlops):
    configs = load_config(mlops)
    assert [configs[env].serving.instance_type for env in ENVIRONMENT_NAMES] == [
        "ml.m5.xlarge",
        "ml.g5.xlarge",
        "ml.g5.xlarge",
    ]
    assert all(configs[env].serving.model_package_arn is None for env in ENVIRONMENT_NAMES)
    assert [configs[env].serving.deploy_on_approval for env in ENVIRONMENT_NAMES] == [True, False, False]


def test_model_package_override_is_validated_and_applied(mlops):
    arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/12"
    configs = load_config(mlops, model_package_arns={"prod": arn})
    assert configs["prod"].serving.model_package_arn == arn and configs["staging"].serving.model_package_arn is None
    with pytest.raises(
        ConfigError, match=r"prod\.serving\.model_package_arn \(context override\): expected a model package ARN"
    ):
        load_config(
            mlops, model_package_arns={"prod": "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/x"}
        )
    with pytest.raises(ConfigError, match="unknown environment\\(s\\) qa"):
        load_config(mlops, model_package_arns={"qa": arn})


def test_shipped_config_monitors_with_evidently_everywhere(mlops):
    # Model Monitor is closed to new customers: the shipped config must deploy in a new account.
    configs = load_config(mlops)
    assert {c.monitoring.engine for c in configs.values()} == {"evidently"}
    assert all(c.pipeline.max_facet_accuracy_gap == 1.0 for c in configs.values())  # bias gate off by default


def test_existing_network_needs_one_subnet_per_zone(mlops):
    mlops["environments"]["dev"]["network"] = {
        "mode": "existing", "vpc_id": "vpc-0123456789abcdef0", "availability_zones": ["us-east-1a", "us-east-1b"],
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1"], "route_table_ids": ["rtb-0ccccccccccccccc3"],
    }  # fmt: skip
    with pytest.raises(ConfigError, match=re.escape("dev.network.subnet_ids: expected a list of 2 to 2")):
        load_config(mlops)


def test_shipped_config_puts_staging_and_prod_in_private_networking(mlops):
    configs = load_config(mlops)
    assert [c.network.mode for c in configs.values()] == ["none", "create", "create"]


def test_shipped_config_tracks_every_environment_keeping_staging_and_prod_runs(mlops):
    configs = load_config(mlops)
    assert all(c.tracking.enabled for c in configs.values())
    assert [c.tracking.removal_policy for c in configs.values()] == ["destroy", "retain", "retain"]
    # The pipeline registers gated packages itself; MLflow must not add ungated versions.
    assert not any(c.tracking.model_registration for c in configs.values())
    assert configs["dev"].tracking_app_name == "roberta-sentiment-dev"


def test_tracking_section_is_required_and_strict(mlops):
    mlops["environments"]["staging"]["tracking"]["enable"] = True
    with pytest.raises(ConfigError, match=r"staging\.tracking: unknown key\(s\) enable"):
        load_config(mlops)
    del mlops["environments"]["staging"]["tracking"]["enable"]
    del mlops["environments"]["prod"]["tracking"]
    with pytest.raises(ConfigError, match=r"prod\.tracking: missing"):
        load_config(mlops)


def test_tracking_is_off_where_a_config_is_built_without_cdk_json():
    from infra.config import TrackingConfig

    assert TrackingConfig() == TrackingConfig(False, "retain", "Sun:03:00", False)
