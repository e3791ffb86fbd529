"""The data lake: one rotating CMK, six private TLS-only versioned buckets, logs and lifecycles."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

KMS_BUCKETS = 5  # raw, features, models, monitoring, athena results


def test_customer_managed_key_rotates_and_has_an_alias(templates):
    data = templates["dev", "data"]
    data.resource_count_is("AWS::KMS::Key", 1)
    data.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    data.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/roberta-sentiment-dev-data-lake"})


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_bucket_is_encrypted_versioned_private(templates, env):
    data = templates[env, "data"]
    buckets = data.find_resources("AWS::S3::Bucket")
    assert len(buckets) == KMS_BUCKETS + 1
    algorithms = []
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        algorithms.append(
            props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
                "SSEAlgorithm"
            ]
        )
    # S3 server access logs cannot be delivered to an SSE-KMS bucket: that one is SSE-S3.
    assert sorted(algorithms) == ["AES256"] + ["aws:kms"] * KMS_BUCKETS


def test_kms_buckets_use_the_lake_key_with_bucket_keys(templates):
    key_ref = Capture()
    templates["dev", "data"].has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": [key_ref, "Arn"]},
                        },
                    }
                ]
            }
        },
    )
    key_ids = templates["dev", "data"].find_resources("AWS::KMS::Key")
    assert key_ref.as_string() in key_ids


def test_every_bucket_denies_plain_http(templates):
    policies = templates["dev", "data"].find_resources(
        "AWS::S3::BucketPolicy",
        {
            "Properties": {
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                }
            }
        },
    )
    assert len(policies) == KMS_BUCKETS + 1


def test_data_buckets_log_to_the_access_log_bucket(templates):
    data = templates["dev", "data"]
    logged = data.find_resources(
        "AWS::S3::Bucket", {"Properties": {"LoggingConfiguration": {"DestinationBucketName": Match.any_value()}}}
    )
    assert len(logged) == KMS_BUCKETS
    prefixes = sorted(b["Properties"]["LoggingConfiguration"]["LogFilePrefix"] for b in logged.values())
    assert prefixes == ["athenaresults/", "features/", "models/", "monitoring/", "raw/"]
    # Log delivery is granted by bucket policy (no legacy ACLs).
    data.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Principal": {"Service": "logging.s3.amazonaws.com"}, "Effect": "Allow"})]
                )
            }
        },
    )


@pytest.mark.parametrize(("env", "noncurrent", "results"), [("dev", 7, 3), ("prod", 90, 30)])
def test_lifecycle_days_come_from_config(templates, env, noncurrent, results):
    data = templates[env, "data"]
    data.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {"ExpirationInDays": results, "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent}}
                    )
                ]
            }
        },
    )
    rules = [
        b["Properties"]["LifecycleConfiguration"]["Rules"][0] for b in data.find_resources("AWS::S3::Bucket").values()
    ]
    assert all(r["NoncurrentVersionExpiration"]["NoncurrentDays"] == noncurrent for r in rules)
    assert all("AbortIncompleteMultipartUpload" in r for r in rules)


@pytest.mark.parametrize(("env", "policy"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")])
def test_removal_policy_follows_config(templates, stages, env, policy):
    data = templates[env, "data"]
    for resource_type in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Glue::Database", "AWS::SageMaker::FeatureGroup"):
        resources = data.find_resources(resource_type)
        assert resources, resource_type
        assert {r["DeletionPolicy"] for r in resources.values()} == {policy}, resource_type
    assert stages[env].data.termination_protection is (policy == "Retain")
