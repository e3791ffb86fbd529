"""A Glue crawler that registers new ``dt=`` partitions of the raw tables, with encrypted logs."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.raw_tables import RawFormat
from infra.nag import acknowledge_wildcard


class PartitionCrawler(Construct):
    """Crawls the existing raw tables (catalog targets) so it adds partitions, never new tables.

    Schema changes are only logged: the table definitions in CDK stay the source of truth.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        database_name: str,
        formats: tuple[RawFormat, ...],
        bucket: s3.IBucket,
        key: kms.Key,
        schedule: str | None,
    ) -> None:
        if not formats:
            raise ValueError("formats: the crawler needs at least one raw table to crawl")
        if schedule is not None and not schedule.startswith("cron("):
            raise ValueError(f"schedule: Glue crawlers take cron(...) only, got {schedule!r}")
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name="/aws-glue/crawlers*",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        # CloudWatch Logs encrypts the crawler's logs with the lake key (nag GL1).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"{name}-security",
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key.key_arn
                ),
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=key.key_arn
                    )
                ],
            ),
        )

        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
        tables = [
            stack.format_arn(service="glue", resource="table", resource_name=f"{database_name}/{f.table_name}")
            for f in formats
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:UpdateTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                    "glue:UpdatePartition",
                    "glue:BatchUpdatePartition",
                ],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name=database_name),
                    *tables,
                ],
            )
        )
        objects = [bucket.arn_for_objects(f"{f.s3_prefix}/*") for f in formats]
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=objects))
        for prefix_objects in objects:
            acknowledge_wildcard(
                self.role,
                resource=prefix_objects,
                reason="The crawler reads whatever files users drop under this raw table's prefix",
            )
        self.role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
        self.role.add_to_policy(iam.PolicyStatement(actions=["kms:Decrypt"], resources=[key.key_arn]))
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                resources=[log_groups, f"{log_groups}:log-stream:*"],
            )
        )
        # Glue names the log group after the role and security configuration at run time.
        acknowledge_wildcard(self.role, resource=log_groups, reason="Glue creates /aws-glue/crawlers* log groups")
        acknowledge_wildcard(
            self.role, resource=f"{log_groups}:log-stream:*", reason="Glue names one log stream per crawl"
        )

        self.crawler = glue.CfnCrawler(
            self,
            "Crawler",
            name=name,
            role=self.role.role_arn,
            description="Adds new dt= partitions of the raw review tables",
            targets=glue.CfnCrawler.TargetsProperty(
                catalog_targets=[
                    glue.CfnCrawler.CatalogTargetProperty(
                        database_name=database_name, tables=[f.table_name for f in formats]
                    )
                ]
            ),
            # Catalog targets require LOG for deletes and a full recrawl.
            schema_change_policy=glue.CfnCrawler.SchemaChangePolicyProperty(
                update_behavior="LOG", delete_behavior="LOG"
            ),
            recrawl_policy=glue.CfnCrawler.RecrawlPolicyProperty(recrawl_behavior="CRAWL_EVERYTHING"),
            # New partitions inherit the table's SerDe instead of a guessed one.
            configuration=json.dumps(
                {"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}
            ),
            crawler_security_configuration=self.security_configuration.name,
            schedule=glue.CfnCrawler.ScheduleProperty(schedule_expression=schedule) if schedule else None,
        )
        self.crawler.node.add_dependency(self.security_configuration)
        # The role itself is referenced; its inline policy must also exist before the crawler runs.
        self.crawler.node.add_dependency(self.role.node.find_child("DefaultPolicy"))
