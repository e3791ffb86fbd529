"""The environment's Glue catalog: the database, the raw review tables and their partition crawler.

One home for the catalog concern (the database used to be built inline in the data stack,
beside the tables and crawler constructs). A function, not a Construct: its resources keep the
construct paths (and so the logical ids) they had directly under the data stack, so an
existing deployment is updated in place instead of replacing its named, retained database.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.data_lake import DataLake
from infra.constructs.partition_crawler import PartitionCrawler
from infra.constructs.raw_tables import RAW_FORMATS, RawReviewTables


@dataclass(frozen=True)
class ReviewCatalog:
    database: glue.CfnDatabase
    database_name: str
    raw_tables: RawReviewTables
    crawler: PartitionCrawler


def database_name_of(config: EnvironmentConfig) -> str:
    """Athena wants lower case and underscores."""
    return config.prefix.replace("-", "_")


def review_catalog(
    scope: Construct, *, config: EnvironmentConfig, lake: DataLake, removal_policy: cdk.RemovalPolicy
) -> ReviewCatalog:
    """The database (removal policy from config), the raw tables over the raw bucket, and the
    crawler that registers new dt= partitions on ``catalog.crawler_schedule``."""
    name = database_name_of(config)
    database = glue.CfnDatabase(
        scope,
        "Database",
        catalog_id=cdk.Stack.of(scope).account,
        database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=name, description=f"Product reviews and RoBERTa features of the {config.name} environment"
        ),
    )
    database.apply_removal_policy(removal_policy)
    tables = RawReviewTables(scope, "RawTables", database_name=name, bucket=lake.raw)
    crawler = PartitionCrawler(
        scope,
        "PartitionCrawler",
        name=f"{config.prefix}-raw-partitions",
        database_name=name,
        formats=RAW_FORMATS,
        bucket=lake.raw,
        key=lake.key,
        schedule=config.catalog.crawler_schedule,
    )
    for table in tables.tables.values():
        table.node.add_dependency(database)
        crawler.crawler.node.add_dependency(table)
    return ReviewCatalog(database=database, database_name=name, raw_tables=tables, crawler=crawler)
