"""An Athena workgroup that forces encrypted results, caps scans, and holds named queries."""

from __future__ import annotations

from aws_cdk import aws_athena as athena
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

MIN_BYTES_SCANNED_CUTOFF = 10 * 1024 * 1024  # Athena rejects a smaller per-query cutoff at deploy time


class AthenaWorkgroup(Construct):
    """Workgroup ``name`` with results SSE-KMS in ``results_bucket`` and a per-query scan cutoff.

    The workgroup's settings override clients' own (EnforceWorkGroupConfiguration), so a
    user cannot write unencrypted results elsewhere or lift the cutoff.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        results_bucket: s3.IBucket,
        key: kms.IKey,
        bytes_scanned_cutoff: int,
        destroy_with_stack: bool,
    ) -> None:
        if bytes_scanned_cutoff < MIN_BYTES_SCANNED_CUTOFF:
            raise ValueError(
                f"bytes_scanned_cutoff: Athena's minimum is {MIN_BYTES_SCANNED_CUTOFF} bytes,"
                f" got {bytes_scanned_cutoff}"
            )
        super().__init__(scope, construct_id)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=name,
            description="Explore raw reviews and the feature store offline table",
            state="ENABLED",
            recursive_delete_option=destroy_with_stack,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=results_bucket.s3_url_for_object("results/"),
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=key.key_arn
                    ),
                ),
            ),
        )
        self.name = name

    def add_query(self, name: str, *, database: str, description: str, sql: str) -> athena.CfnNamedQuery:
        return athena.CfnNamedQuery(
            self,
            name,
            name=name,
            database=database,
            description=description,
            query_string=sql,
            work_group=self.workgroup.ref,
        )
