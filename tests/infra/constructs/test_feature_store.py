"""ReviewFeatureGroup on its own.

Props (all required): ``feature_group_name``, ``bucket`` and ``key`` (the offline store),
``database_name`` (its Glue table), ``online_store_enabled``. Secure defaults: the offline
store is KMS-encrypted, the online store (when on) too; Feature Store's role writes only
the offline-store prefix and the one Glue table.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.feature_store import OFFLINE_STORE_PREFIX, ReviewFeatureGroup
from ml_code.common.features import EVENT_TIME, FEATURES, RECORD_IDENTIFIER
from tests.infra.constructs.conftest import (
    actions_of,
    assert_least_privilege,
    bucket,
    lake_key,
    new_stack,
    resources_for,
    role_with_principal,
)


def build(stack, *, online: bool) -> ReviewFeatureGroup:
    key = lake_key(stack)
    return ReviewFeatureGroup(
        stack,
        "Features",
        feature_group_name="demo-test-reviews",
        bucket=bucket(stack, key=key),
        key=key,
        database_name="demo_test",
        online_store_enabled=online,
    )


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("fs"))
    group = build(stack, online=False)
    return group, Template.from_stack(stack)


def test_the_schema_comes_from_ml_code(offline):
    _, template = offline
    template.has_resource_properties(
        "AWS::SageMaker::FeatureGroup",
        {
            "FeatureGroupName": "demo-test-reviews",
            "RecordIdentifierFeatureName": RECORD_IDENTIFIER,
            "EventTimeFeatureName": EVENT_TIME,
            "FeatureDefinitions": [{"FeatureName": f.name, "FeatureType": f.type} for f in FEATURES],
        },
    )


def test_offline_store_is_kms_encrypted_under_its_prefix_with_a_glue_table(offline):
    group, template = offline
    assert group.table_name == "demo_test_reviews"
    template.has_resource_properties(
        "AWS::SageMaker::FeatureGroup",
        {
            "OfflineStoreConfig": {
                "S3StorageConfig": {
                    "S3Uri": {"Fn::Join": ["", ["s3://", Match.any_value(), f"/{OFFLINE_STORE_PREFIX}"]]},
                    "KmsKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
                },
                "DataCatalogConfig": {
                    "Catalog": "AwsDataCatalog",
                    "Database": "demo_test",
                    "TableName": "demo_test_reviews",
                },
            }
        },
    )


def test_online_store_is_off_when_disabled(offline):
    _, template = offline
    template.has_resource_properties(
        "AWS::SageMaker::FeatureGroup", {"OnlineStoreConfig": {"EnableOnlineStore": False}}
    )


def test_online_store_is_encrypted_when_enabled(stack):
    build(stack, online=True)
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::FeatureGroup",
        {
            "OnlineStoreConfig": {
                "EnableOnlineStore": True,
                "SecurityConfig": {"KmsKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}},
            }
        },
    )


def test_the_role_writes_only_the_offline_prefix_and_its_table(offline):
    _, template = offline
    assert_least_privilege(template)
    role = role_with_principal(template, "sagemaker.amazonaws.com")
    assert actions_of(template, role) == {
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetBucketAcl",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateTable",
        "glue:UpdateTable",
    }
    [objects] = resources_for(template, "s3:PutObject", role)
    assert objects["Fn::Join"][1][-1] == f"/{OFFLINE_STORE_PREFIX}/*"
    tables = resources_for(template, "glue:CreateTable", role)
    assert any("table/demo_test/demo_test_reviews" in str(arn) for arn in tables)
    assert not any(str(arn).endswith("table/demo_test/*") for arn in tables)


def test_the_group_waits_for_its_role_policy(offline):
    _, template = offline
    [group] = template.find_resources("AWS::SageMaker::FeatureGroup").values()
    policies = template.find_resources("AWS::IAM::Policy")
    assert set(group["DependsOn"]) & set(policies)
