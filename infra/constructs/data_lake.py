"""The KMS-encrypted data lake: one customer-managed key and the buckets every step uses."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import DataLakeConfig
from infra.scanner_metadata import acknowledge_scanner

# IaC scanners (checkov CKV_AWS_18, cfn_nag W35) want every bucket access-logged.
ACCESS_LOG_BUCKET_REASON = (
    "This bucket receives the server access logs of the others; S3 cannot deliver a bucket's access "
    "logs to itself (it would log its own log deliveries in a loop), and a further log bucket would need one too"
)


class DataLake(Construct):
    """A rotating customer-managed key and six buckets.

    raw (reviews as users drop them), features (processed splits and the Feature Store
    offline store), models (training artifacts), monitoring (endpoint data capture and
    Model Monitor reports), athena_results (query output, expires), and access_logs
    (server access logs of the other five).

    Every data bucket is SSE-KMS with the lake key (bucket keys on, to cut KMS request
    costs), versioned, private, TLS-only and logged. The access-log bucket uses SSE-S3
    because S3 log delivery cannot write to SSE-KMS targets.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        key_alias: str,
        models_bucket_name: str,
        config: DataLakeConfig,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # Log delivery through the bucket policy (ACLs stay disabled below) whatever the app's
        # feature flags: without this flag CDK requires ACL-based log delivery and fails.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.key = kms.Key(
            self,
            "Key",
            alias=key_alias,
            description=f"Encrypts the {prefix} data lake, feature store, Athena results and logs",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        noncurrent = cdk.Duration.days(config.noncurrent_version_expiration_days)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            # ACLs disabled: CDK grants S3 log delivery through the bucket policy instead.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=cdk.Duration.days(config.access_logs_expiration_days),
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=removal_policy,
        )
        acknowledge_scanner(
            cast(s3.CfnBucket, self.access_logs.node.default_child),
            checkov="CKV_AWS_18",
            cfn_nag="W35",
            reason=ACCESS_LOG_BUCKET_REASON,
        )
        self.raw = self._bucket("Raw", noncurrent, removal_policy)
        # Dataset drops reach EventBridge (the pipeline trigger). Set on the L1 because the
        # L2 switch adds a notifications custom resource (a Lambda) for the same setting.
        cast(s3.CfnBucket, self.raw.node.default_child).add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.features = self._bucket("Features", noncurrent, removal_policy)
        self.models = self._bucket("Models", noncurrent, removal_policy, name=models_bucket_name)
        self.monitoring = self._bucket("Monitoring", noncurrent, removal_policy)
        self.athena_results = self._bucket(
            "AthenaResults",
            noncurrent,
            removal_policy,
            expiration=cdk.Duration.days(config.athena_results_expiration_days),
        )

    def share_model_artifacts(self, accounts: tuple[str, ...], prefixes: tuple[str, ...]) -> None:
        """Let ``accounts`` (promoted environments) read model artifacts under ``prefixes``.

        Both halves are needed: the bucket policy for the objects, and the key policy for
        decrypting them, limited to use through S3 in this region.
        """
        if not accounts:
            return
        principals = [iam.AccountPrincipal(account) for account in accounts]
        self.models.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PromotedEnvironmentsReadArtifacts",
                principals=principals,
                actions=["s3:GetObject"],
                resources=[self.models.arn_for_objects(f"{prefix}/*") for prefix in prefixes],
            )
        )
        stack = cdk.Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PromotedEnvironmentsDecryptArtifacts",
                principals=principals,
                actions=["kms:Decrypt"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        )

    def _bucket(
        self,
        construct_id: str,
        noncurrent: cdk.Duration,
        removal_policy: cdk.RemovalPolicy,
        expiration: cdk.Duration | None = None,
        name: str | None = None,
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            bucket_name=name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{construct_id.lower()}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-versions",
                    expiration=expiration,
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
        )
