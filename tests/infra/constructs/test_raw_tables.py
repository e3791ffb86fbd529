"""RawReviewTables on its own.

Props (all required): ``database_name``, ``bucket`` (the raw bucket). One external,
``dt``-partitioned table per RawFormat, over ``s3://<raw>/<format prefix>/``, in the
bucket's account's catalog.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.raw_tables import PARTITION_KEY, RAW_FORMATS, RawReviewTables
from tests.infra.constructs.conftest import ACCOUNT, bucket, new_stack


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("tables"))
    tables = RawReviewTables(stack, "Tables", database_name="demo_test", bucket=bucket(stack))
    assert set(tables.tables) == {f.table_name for f in RAW_FORMATS}
    return Template.from_stack(stack)


def test_one_table_per_format_in_the_given_database(template):
    template.resource_count_is("AWS::Glue::Table", len(RAW_FORMATS))
    template.all_resources_properties("AWS::Glue::Table", {"CatalogId": ACCOUNT, "DatabaseName": "demo_test"})


@pytest.mark.parametrize("fmt", RAW_FORMATS, ids=lambda f: f.table_name)
def test_table_matches_its_format(template, fmt):
    template.has_resource_properties(
        "AWS::Glue::Table",
        {
            "TableInput": Match.object_like(
                {
                    "Name": fmt.table_name,
                    "TableType": "EXTERNAL_TABLE",
                    "PartitionKeys": [{"Name": PARTITION_KEY, "Type": "string"}],
                    "Parameters": Match.object_like({"has_encrypted_data": "true", "skip.header.line.count": "1"}),
                    "StorageDescriptor": Match.object_like(
                        {
                            "Columns": [{"Name": n, "Type": t} for n, t in fmt.columns],
                            "Location": {"Fn::Join": ["", ["s3://", Match.any_value(), f"/{fmt.s3_prefix}/"]]},
                            "SerdeInfo": {"SerializationLibrary": fmt.serde, "Parameters": fmt.serde_parameters},
                        }
                    ),
                }
            )
        },
    )


@pytest.mark.parametrize("fmt", RAW_FORMATS, ids=lambda f: f.table_name)
def test_query_columns_exist_in_the_table(fmt):
    names = {name for name, _ in fmt.columns}
    assert {fmt.text_column, fmt.rating_column, fmt.category_column} <= names
