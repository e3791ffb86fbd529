"""Fixtures for testing each construct on its own: a bare stack and explicit props.

Nothing here reads cdk.json: a construct test states every prop it depends on, so editing a
per-environment value in cdk.json can only break the whole-app tests in tests/infra.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from infra.config import (
    AutoscalingConfig,
    BatchScoringConfig,
    CatalogConfig,
    ComputeConfig,
    DataLakeConfig,
    EnvironmentConfig,
    FeatureStoreConfig,
    MonitoringConfig,
    PipelineConfig,
    RolloutConfig,
    ServingConfig,
    TrainingConfig,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/demo-test-sentiment/3"
GROUP_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/demo-test-sentiment"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


def new_stack(outdir: Any, construct_id: str = "Test") -> cdk.Stack:
    """A stack with an explicit environment in its own app (no cdk.json context, no feature flags)."""
    app = cdk.App(outdir=str(outdir))
    return cdk.Stack(app, construct_id, env=cdk.Environment(account=ACCOUNT, region=REGION))


@pytest.fixture
def stack(tmp_path) -> cdk.Stack:
    return new_stack(tmp_path)


def lake_key(stack: cdk.Stack) -> kms.Key:
    return kms.Key(stack, "LakeKey", enable_key_rotation=True)


def bucket(stack: cdk.Stack, construct_id: str = "Bucket", key: kms.IKey | None = None) -> s3.Bucket:
    return s3.Bucket(stack, construct_id, encryption_key=key, encryption=s3.BucketEncryption.KMS if key else None)


def make_config(name: str = "test", **overrides: Any) -> EnvironmentConfig:
    """A small valid EnvironmentConfig built from the dataclasses (project "demo", cheap types).

    ``overrides``: top-level fields, or one nested section as a dict of its fields, e.g.
    ``make_config(monitoring={"engine": "model_monitor"})``.
    """
    config = EnvironmentConfig(
        name=name,
        project="demo",
        account=ACCOUNT,
        region=REGION,
        removal_policy="destroy",
        data_lake=DataLakeConfig(
            noncurrent_version_expiration_days=5, athena_results_expiration_days=2, access_logs_expiration_days=9
        ),
        catalog=CatalogConfig(crawler_schedule=None, athena_bytes_scanned_cutoff=100 * 1024 * 1024),
        feature_store=FeatureStoreConfig(online_store_enabled=False),
        processing=ComputeConfig(instance_type="ml.m5.large", instance_count=1),
        training=TrainingConfig(instance_type="ml.g5.xlarge", instance_count=1, use_spot=False),
        pipeline=PipelineConfig(
            min_accuracy=0.5,
            retrain_schedule=None,
            base_model="roberta-base",
            epochs=1,
            learning_rate=3e-5,
            batch_size=8,
            max_seq_length=64,
            step_caching=False,
            max_facet_accuracy_gap=1.0,
        ),
        serving=ServingConfig(
            model_package_arn=PACKAGE_ARN,
            instance_type="ml.m5.xlarge",
            instance_count=2,
            autoscaling=AutoscalingConfig(
                min_instances=2,
                max_instances=4,
                target_invocations_per_instance=50,
                scale_in_cooldown_seconds=301,
                scale_out_cooldown_seconds=61,
            ),
            rollout=RolloutConfig(strategy="canary", step_percent=25, wait_seconds=120, termination_wait_seconds=60),
            data_capture_percentage=40,
            model_latency_p99_ms=750,
            max_texts_per_request=16,
            max_chars_per_text=2000,
            deploy_on_approval=True,
        ),
        monitoring=MonitoringConfig(
            engine="evidently",
            schedule="cron(0 */2 ? * * *)",
            window_hours=2,
            instance_type="ml.m5.large",
            drift_threshold=0.2,
            ground_truth_s3_uri=None,
            accuracy_alarm_margin=0.1,
            retrain_on_drift=False,
        ),
        batch_scoring=BatchScoringConfig(enabled=True, instance_type="ml.m5.xlarge", instance_count=1),
    )
    nested = {}
    for field, value in overrides.items():
        if isinstance(value, dict):
            nested[field] = dataclasses.replace(getattr(config, field), **value)
        else:
            nested[field] = value
    return dataclasses.replace(config, **nested)


def statements(template: Template, role: str | None = None) -> list[dict]:
    """Every statement of the template's IAM policies (of one role's, by its logical id, if given)."""
    found = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        props = policy["Properties"]
        if role is not None and {"Ref": role} not in props["Roles"]:
            continue
        found.extend(props["PolicyDocument"]["Statement"])
    return found


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def actions_of(template: Template, role: str | None = None) -> set[str]:
    return {action for statement in statements(template, role) for action in as_list(statement["Action"])}


def resources_for(template: Template, action: str, role: str | None = None) -> list:
    """The resources of every statement that allows ``action``, resolved as in the template."""
    return [
        resource
        for statement in statements(template, role)
        if action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def assert_least_privilege(template: Template) -> None:
    """Only Allow statements, no service-wide actions, no managed *FullAccess policies."""
    for statement in statements(template):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"wildcard action {action}"
    for role in template.find_resources("AWS::IAM::Role").values():
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "FullAccess" not in str(arn)


def role_with_principal(template: Template, service: str) -> str:
    """The logical id of the only role ``service`` may assume (looked up, never hard-coded)."""
    roles = {
        logical: role
        for logical, role in template.find_resources("AWS::IAM::Role").items()
        if any(
            s.get("Principal", {}).get("Service") == service
            for s in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        )
    }
    assert len(roles) == 1, f"expected one role for {service}, found {sorted(roles)}"
    return next(iter(roles))


def arn_tail(arn: Any) -> str:
    """The literal end of an ARN as the template has it: the string, or an Fn::Join's last part."""
    if isinstance(arn, str):
        return arn
    return arn["Fn::Join"][1][-1]
