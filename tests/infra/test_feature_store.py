"""The feature group is the ml_code feature schema, with a KMS offline store and a switchable online store."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from ml_code.common.features import EVENT_TIME, FEATURES, RECORD_IDENTIFIER


def test_feature_definitions_are_exactly_the_ml_code_schema(templates):
    definitions = Capture()
    templates["dev", "data"].has_resource_properties(
        "AWS::SageMaker::FeatureGroup",
        {
            "FeatureGroupName": "roberta-sentiment-dev-reviews",
            "RecordIdentifierFeatureName": RECORD_IDENTIFIER,
            "EventTimeFeatureName": EVENT_TIME,
            "FeatureDefinitions": definitions,
        },
    )
    assert definitions.as_array() == [{"FeatureName": f.name, "FeatureType": f.type} for f in FEATURES]


def test_offline_store_is_kms_encrypted_in_the_features_bucket_with_a_named_glue_table(templates, stages):
    data = stages["dev"].data
    bucket_id = data.get_logical_id(data.lake.features.node.default_child)
    key_id = data.get_logical_id(data.lake.key.node.default_child)
    templates["dev", "data"].has_resource_properties(
        "AWS::SageMaker::FeatureGroup",
        {
            "OfflineStoreConfig": {
                "S3StorageConfig": {
                    "S3Uri": {"Fn::Join": ["", ["s3://", {"Ref": bucket_id}, "/feature-store"]]},
                    "KmsKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
                },
                "DataCatalogConfig": {
                    "Catalog": "AwsDataCatalog",
                    "Database": "roberta_sentiment_dev",
                    "TableName": "roberta_sentiment_dev_reviews",
                },
                "DisableGlueTableCreation": False,
                "TableFormat": "Glue",
            }
        },
    )


@pytest.mark.parametrize(("env", "online"), [("dev", False), ("staging", True), ("prod", True)])
def test_online_store_is_switched_per_environment(templates, env, online):
    expected = {"EnableOnlineStore": online}
    if online:
        expected["SecurityConfig"] = {"KmsKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}
    templates[env, "data"].has_resource_properties("AWS::SageMaker::FeatureGroup", {"OnlineStoreConfig": expected})


def test_offline_store_role_is_scoped_to_its_prefix_key_and_table(templates):
    statements = Capture()
    templates["dev", "data"].has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyName": Match.string_like_regexp("ReviewFeaturesOfflineStoreRole"),
            "PolicyDocument": {"Statement": statements},
        },
    )
    by_action = {
        tuple(s["Action"]) if isinstance(s["Action"], list) else (s["Action"],): s for s in statements.as_array()
    }
    objects = by_action["s3:PutObject", "s3:GetObject"]["Resource"]
    assert objects["Fn::Join"][1][-1] == "/feature-store/*"
    glue = by_action["glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"]["Resource"]
    assert any("table/roberta_sentiment_dev/roberta_sentiment_dev_reviews" in str(r) for r in glue)
    assert all(s["Resource"] != "*" for s in statements.as_array())
    (key_id,) = templates["dev", "data"].find_resources("AWS::KMS::Key")
    assert by_action["kms:GenerateDataKey", "kms:Decrypt"]["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
