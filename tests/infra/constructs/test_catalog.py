"""review_catalog on its own (the Glue database, raw tables and crawler, built into a scope).

Args (all required): ``config`` (prefix: the database name; name; crawler schedule),
``lake`` (raw bucket and key), ``removal_policy`` (of the database).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.assertions import Template

from infra.config import DataLakeConfig
from infra.constructs.catalog import database_name_of, review_catalog
from infra.constructs.data_lake import DataLake
from infra.constructs.raw_tables import RAW_FORMATS
from tests.infra.constructs.conftest import ACCOUNT, make_config


def build(stack, config, removal_policy=cdk.RemovalPolicy.RETAIN):
    lake = DataLake(
        stack,
        "Lake",
        prefix=config.prefix,
        key_alias="alias/demo-lake",
        models_bucket_name="demo-models-123456789012",
        config=DataLakeConfig(1, 1, 1),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    catalog = review_catalog(stack, config=config, lake=lake, removal_policy=removal_policy)
    return catalog, Template.from_stack(stack)


def test_database_named_after_the_prefix_with_the_removal_policy(stack):
    catalog, template = build(stack, make_config())
    assert catalog.database_name == database_name_of(make_config()) == "demo_test"
    template.has_resource(
        "AWS::Glue::Database",
        {
            "DeletionPolicy": "Retain",
            "Properties": {
                "CatalogId": ACCOUNT,
                "DatabaseInput": {
                    "Name": "demo_test",
                    "Description": "Product reviews and RoBERTa features of the test environment",
                },
            },
        },
    )
    template.resource_count_is("AWS::Glue::Table", len(RAW_FORMATS))


def test_tables_wait_for_the_database_and_the_crawler_for_the_tables(stack):
    _, template = build(stack, make_config(catalog={"crawler_schedule": "cron(0 4 * * ? *)"}))
    [database] = template.find_resources("AWS::Glue::Database")
    tables = template.find_resources("AWS::Glue::Table")
    assert all(database in t["DependsOn"] for t in tables.values())
    [crawler] = template.find_resources("AWS::Glue::Crawler").values()
    assert set(tables) <= set(crawler["DependsOn"])
    assert crawler["Properties"]["Name"] == "demo-test-raw-partitions"
    assert crawler["Properties"]["Schedule"] == {"ScheduleExpression": "cron(0 4 * * ? *)"}


def test_destroy_deletes_the_database(stack):
    _, template = build(stack, make_config(), cdk.RemovalPolicy.DESTROY)
    template.has_resource("AWS::Glue::Database", {"DeletionPolicy": "Delete"})
