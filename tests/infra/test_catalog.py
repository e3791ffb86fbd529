"""Glue catalog, raw tables for both formats, the partition crawler, and the Athena workgroup."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Capture, Match

from infra.athena_queries import sentiment_case
from infra.constructs.raw_tables import AMAZON_REVIEWS_TSV, PARTITION_KEY, RAW_FORMATS, WOMENS_CLOTHING_CSV
from ml_code.common.labels import SENTIMENTS


def _table(templates, fmt):
    tables = templates["dev", "data"].find_resources(
        "AWS::Glue::Table", {"Properties": {"TableInput": {"Name": fmt.table_name}}}
    )
    assert len(tables) == 1, fmt.table_name
    return next(iter(tables.values()))["Properties"]


def test_database_is_named_for_the_environment(templates):
    templates["prod", "data"].has_resource_properties(
        "AWS::Glue::Database", {"DatabaseInput": {"Name": "roberta_sentiment_prod"}}
    )


def test_amazon_tsv_table_reads_tabs_without_quoting_and_skips_the_header(templates):
    props = _table(templates, AMAZON_REVIEWS_TSV)
    descriptor = props["TableInput"]["StorageDescriptor"]
    assert descriptor["SerdeInfo"] == {
        "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        "Parameters": {"field.delim": "\t", "serialization.format": "\t"},
    }
    assert [c["Name"] for c in descriptor["Columns"]] == [
        "marketplace",
        "customer_id",
        "review_id",
        "product_id",
        "product_parent",
        "product_title",
        "product_category",
        "star_rating",
        "helpful_votes",
        "total_votes",
        "vine",
        "verified_purchase",
        "review_headline",
        "review_body",
        "review_date",
    ]
    types = {c["Name"]: c["Type"] for c in descriptor["Columns"]}
    assert types["star_rating"] == "int" and types["review_date"] == "date"
    assert props["TableInput"]["Parameters"]["skip.header.line.count"] == "1"
    assert props["TableInput"]["PartitionKeys"] == [{"Name": PARTITION_KEY, "Type": "string"}]
    assert descriptor["Location"]["Fn::Join"][1][-1] == "/amazon-customer-reviews/"


def test_clothing_csv_table_uses_opencsv_quoting_and_the_files_column_order(templates):
    props = _table(templates, WOMENS_CLOTHING_CSV)
    descriptor = props["TableInput"]["StorageDescriptor"]
    assert descriptor["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert descriptor["SerdeInfo"]["Parameters"] == {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}
    # ../shared/data/README.md: unnamed row index, Clothing ID, Age, Title, Review Text, Rating, ...
    assert [c["Name"] for c in descriptor["Columns"]] == [
        "row_index",
        "clothing_id",
        "age",
        "title",
        "review_text",
        "rating",
        "recommended_ind",
        "positive_feedback_count",
        "division_name",
        "department_name",
        "class_name",
    ]
    assert props["TableInput"]["Parameters"]["skip.header.line.count"] == "1"


@pytest.mark.parametrize(("env", "schedule"), [("staging", "cron(0 3 * * ? *)"), ("prod", "cron(0 3 * * ? *)")])
def test_crawler_adds_partitions_to_existing_tables_on_the_configured_schedule(templates, env, schedule):
    templates[env, "data"].has_resource_properties(
        "AWS::Glue::Crawler",
        {
            "Targets": {
                "CatalogTargets": [
                    {"DatabaseName": f"roberta_sentiment_{env}", "Tables": [f.table_name for f in RAW_FORMATS]}
                ]
            },
            "SchemaChangePolicy": {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
            "Schedule": {"ScheduleExpression": schedule},
            "CrawlerSecurityConfiguration": Match.any_value(),
        },
    )


def test_crawler_has_no_schedule_when_config_says_off_and_inherits_table_serde(templates):
    crawlers = templates["dev", "data"].find_resources("AWS::Glue::Crawler")
    (crawler,) = crawlers.values()
    assert "Schedule" not in crawler["Properties"]
    config = json.loads(crawler["Properties"]["Configuration"])
    assert config["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == "InheritFromTable"


def test_crawler_logs_and_bookmarks_are_kms_encrypted_and_the_key_allows_logs(templates):
    data = templates["dev", "data"]
    data.has_resource_properties(
        "AWS::Glue::SecurityConfiguration",
        {
            "EncryptionConfiguration": {
                "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": Match.any_value()},
                "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": Match.any_value()},
                "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": Match.any_value()}],
            }
        },
    )
    data.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Condition": Match.any_value()}
                        )
                    ]
                )
            }
        },
    )


def test_workgroup_enforces_encrypted_results_and_a_scan_cutoff(templates):
    templates["prod", "analytics"].has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": "roberta-sentiment-prod",
            "RecursiveDeleteOption": False,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "BytesScannedCutoffPerQuery": 107374182400,
                "ResultConfiguration": {
                    "OutputLocation": Match.any_value(),
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": Match.any_value()},
                },
            },
        },
    )


def test_named_queries_answer_the_course_questions_per_format_and_read_the_offline_store(templates):
    analytics = templates["dev", "analytics"]
    queries = {
        q["Properties"]["Name"]: q["Properties"] for q in analytics.find_resources("AWS::Athena::NamedQuery").values()
    }
    expected = {
        f"{f.table_name}-{question}"
        for f in RAW_FORMATS
        for question in ("reviews-per-sentiment", "reviews-per-category", "review-length-per-sentiment")
    } | {"roberta_sentiment_dev_reviews-latest-per-review"}
    assert set(queries) == expected
    assert all(q["Database"] == "roberta_sentiment_dev" for q in queries.values())
    per_category = queries["amazon_reviews_tsv-reviews-per-category"]["QueryString"]
    assert "product_category AS product_category" in per_category and sentiment_case("star_rating") in per_category
    clothing = queries["womens_clothing_reviews_csv-reviews-per-category"]["QueryString"]
    assert "department_name AS product_category" in clothing and sentiment_case("rating") in clothing
    latest = queries["roberta_sentiment_dev_reviews-latest-per-review"]["QueryString"]
    assert "PARTITION BY review_id ORDER BY event_time DESC" in latest and "NOT is_deleted" in latest
    group = Capture()
    analytics.has_resource_properties("AWS::Athena::NamedQuery", {"WorkGroup": {"Ref": group}})
    assert group.as_string() in analytics.find_resources("AWS::Athena::WorkGroup")


def test_sentiment_case_follows_the_one_label_mapping():
    sql = sentiment_case("stars")
    for s in SENTIMENTS:
        assert f"WHEN stars BETWEEN {s.min_stars} AND {s.max_stars} THEN '{s.name}'" in sql
