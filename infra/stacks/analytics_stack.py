"""Stateless exploration layer of one environment: the Athena workgroup and named queries.

Destroying and redeploying it loses nothing: query results expire in their bucket, and
the tables the queries read belong to the data stack.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.athena_queries import latest_features_query, raw_queries
from infra.config import EnvironmentConfig
from infra.constructs.athena_workgroup import AthenaWorkgroup
from infra.constructs.raw_tables import RAW_FORMATS
from infra.stacks.data_stack import DataStack


class AnalyticsStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, data: DataStack, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        database = data.database_name
        self.athena = AthenaWorkgroup(
            self,
            "Athena",
            name=config.prefix,
            results_bucket=data.lake.athena_results,
            key=data.lake.key,
            bytes_scanned_cutoff=config.catalog.athena_bytes_scanned_cutoff,
            destroy_with_stack=config.removal_policy == "destroy",
        )
        for fmt in RAW_FORMATS:
            for name, (description, sql) in raw_queries(fmt, database).items():
                self.athena.add_query(name, database=database, description=description, sql=sql)
        self.athena.add_query(
            f"{data.features.table_name}-latest-per-review",
            database=database,
            description="Newest feature record per review id in the Feature Store offline table",
            sql=latest_features_query(database, data.features.table_name),
        )
