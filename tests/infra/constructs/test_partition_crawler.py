"""PartitionCrawler on its own.

Props (all required): ``name``, ``database_name``, ``formats`` (the tables it crawls; empty raises),
``bucket``, ``key`` (a Key: its policy lets CloudWatch Logs encrypt the crawler's logs),
``schedule`` (cron, or None: on demand only; rate() raises: Glue takes cron only). Secure defaults: a security configuration
encrypting logs, bookmarks and S3 with the key; schema changes only logged; a role limited
to the given tables' partitions and prefixes.
"""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.partition_crawler import PartitionCrawler
from infra.constructs.raw_tables import RAW_FORMATS
from tests.infra.constructs.conftest import (
    actions_of,
    assert_least_privilege,
    bucket,
    lake_key,
    new_stack,
    resources_for,
    role_with_principal,
)


def build(stack, schedule=None, formats=RAW_FORMATS) -> PartitionCrawler:
    key = lake_key(stack)
    return PartitionCrawler(
        stack,
        "Crawler",
        name="demo-test-raw",
        database_name="demo_test",
        formats=formats,
        bucket=bucket(stack, key=key),
        key=key,
        schedule=schedule,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("crawler"))
    build(stack)
    return Template.from_stack(stack)


def test_crawls_the_existing_tables_only_and_logs_schema_changes(template):
    template.has_resource_properties(
        "AWS::Glue::Crawler",
        {
            "Name": "demo-test-raw",
            "Targets": {
                "CatalogTargets": [{"DatabaseName": "demo_test", "Tables": [f.table_name for f in RAW_FORMATS]}]
            },
            "SchemaChangePolicy": {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
            "CrawlerSecurityConfiguration": "demo-test-raw-security",
            "Schedule": Match.absent(),
        },
    )
    [crawler] = template.find_resources("AWS::Glue::Crawler").values()
    config = json.loads(crawler["Properties"]["Configuration"])
    assert config["CrawlerOutput"]["Partitions"]["AddOrUpdateBehavior"] == "InheritFromTable"


def test_schedule_when_given(stack):
    build(stack, schedule="cron(15 3 * * ? *)")
    Template.from_stack(stack).has_resource_properties(
        "AWS::Glue::Crawler", {"Schedule": {"ScheduleExpression": "cron(15 3 * * ? *)"}}
    )


def test_security_configuration_encrypts_everything_with_the_key(template):
    key_arn = {"Fn::GetAtt": [Match.any_value(), "Arn"]}
    template.has_resource_properties(
        "AWS::Glue::SecurityConfiguration",
        {
            "EncryptionConfiguration": {
                "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": key_arn},
                "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": key_arn},
                "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": key_arn}],
            }
        },
    )


def test_key_policy_lets_logs_use_the_key_for_crawler_log_groups_only(template):
    [key] = template.find_resources("AWS::KMS::Key").values()
    [logs] = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    ]
    arn = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn["Fn::Join"][1][-1] == ":logs:us-east-1:123456789012:log-group:/aws-glue/crawlers*"


def test_role_is_limited_to_the_tables_prefixes_and_crawler_logs(template):
    assert_least_privilege(template)
    role = role_with_principal(template, "glue.amazonaws.com")
    assert "glue:CreateTable" not in actions_of(template, role)
    assert "glue:DeleteTable" not in actions_of(template, role)
    tables = [str(arn) for arn in resources_for(template, "glue:BatchCreatePartition", role)]
    assert sum("table/demo_test/" in arn for arn in tables) == len(RAW_FORMATS)
    objects = resources_for(template, "s3:GetObject", role)
    assert [o["Fn::Join"][1][-1] for o in objects] == [f"/{f.s3_prefix}/*" for f in RAW_FORMATS]


def test_the_crawler_waits_for_its_security_configuration_and_policy(template):
    [crawler] = template.find_resources("AWS::Glue::Crawler").values()
    depends = set(crawler["DependsOn"])
    assert depends & set(template.find_resources("AWS::Glue::SecurityConfiguration"))
    assert depends & set(template.find_resources("AWS::IAM::Policy"))


def test_no_formats_raises(stack):
    with pytest.raises(ValueError, match="formats"):
        build(stack, formats=())


@pytest.mark.parametrize("schedule", ["rate(1 day)", "0 3 * * ? *"])
def test_a_schedule_that_is_not_cron_raises(stack, schedule):
    with pytest.raises(ValueError, match="cron"):
        build(stack, schedule=schedule)
