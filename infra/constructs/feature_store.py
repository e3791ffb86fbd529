"""The review feature group, built from the one feature schema in ml_code.common.features."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from infra.nag import acknowledge_wildcard
from ml_code.common.features import EVENT_TIME, FEATURES, RECORD_IDENTIFIER

OFFLINE_STORE_PREFIX = "feature-store"


class ReviewFeatureGroup(Construct):
    """RoBERTa features of each review, with a KMS-encrypted offline store and its Glue table.

    The offline store writes Parquet under ``s3://<features>/feature-store/`` and Feature
    Store creates the Glue table ``table_name`` in ``database_name`` for Athena. The online
    store (low-latency lookups) costs money while idle, so it is switched per environment.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        feature_group_name: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        database_name: str,
        online_store_enabled: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.feature_group_name = feature_group_name
        self.database_name = database_name
        # Athena identifiers: lower case, underscores.
        self.table_name = feature_group_name.replace("-", "_")
        stack = cdk.Stack.of(self)

        # Feature Store assumes this role to write the offline store and create its table.
        self.role = iam.Role(
            self,
            "OfflineStoreRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Feature Store writes the {feature_group_name} offline store",
        )
        offline_objects = bucket.arn_for_objects(f"{OFFLINE_STORE_PREFIX}/*")
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"], resources=[offline_objects])
        )
        acknowledge_wildcard(
            self.role,
            resource=offline_objects,
            reason="Feature Store writes Parquet files with generated names under the offline-store prefix only",
        )
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetBucketAcl"], resources=[bucket.bucket_arn]))
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=database_name),
                    stack.format_arn(
                        service="glue", resource="table", resource_name=f"{database_name}/{self.table_name}"
                    ),
                ],
            )
        )

        # The L1 types these two properties as plain JSON: CloudFormation's PascalCase keys.
        online: dict[str, object] = {"EnableOnlineStore": online_store_enabled}
        if online_store_enabled:
            online["SecurityConfig"] = {"KmsKeyId": key.key_arn}
        self.feature_group = sagemaker.CfnFeatureGroup(
            self,
            "FeatureGroup",
            feature_group_name=feature_group_name,
            description="RoBERTa input ids and sentiment labels of product reviews",
            record_identifier_feature_name=RECORD_IDENTIFIER,
            event_time_feature_name=EVENT_TIME,
            feature_definitions=[
                sagemaker.CfnFeatureGroup.FeatureDefinitionProperty(feature_name=f.name, feature_type=f.type)
                for f in FEATURES
            ],
            offline_store_config={
                "S3StorageConfig": {"S3Uri": bucket.s3_url_for_object(OFFLINE_STORE_PREFIX), "KmsKeyId": key.key_arn},
                "DataCatalogConfig": {
                    "Catalog": "AwsDataCatalog",
                    "Database": database_name,
                    "TableName": self.table_name,
                },
                "DisableGlueTableCreation": False,
                "TableFormat": "Glue",
            },
            online_store_config=online,
            role_arn=self.role.role_arn,
        )
        # Feature Store checks the role's permissions when the group is created, so its inline
        # policy must exist first (the role itself is already referenced by RoleArn).
        self.feature_group.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
