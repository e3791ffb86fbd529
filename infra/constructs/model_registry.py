"""The SageMaker model registry group of one environment, readable by the promotion accounts."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct


class ModelRegistry(Construct):
    """A model package group; ``reader_accounts`` (the environments promoted to) may read it.

    Promotion (dev -> staging -> prod) deploys the exact package version that passed, from
    this account's registry, so those accounts need to describe and list its packages.
    Approving stays with this account.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        reader_accounts: tuple[str, ...],
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.group_name = group_name
        self.group_arn = stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=group_name)
        packages_arn = stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{group_name}/*")
        policy = None
        if reader_accounts:
            principals = {"AWS": [f"arn:{stack.partition}:iam::{account}:root" for account in reader_accounts]}
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PromotionAccountsReadGroup",
                        "Effect": "Allow",
                        "Principal": principals,
                        "Action": ["sagemaker:DescribeModelPackageGroup"],
                        "Resource": self.group_arn,
                    },
                    {
                        "Sid": "PromotionAccountsReadPackages",
                        "Effect": "Allow",
                        "Principal": principals,
                        "Action": ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"],
                        "Resource": packages_arn,
                    },
                ],
            }
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=group_name,
            model_package_group_description="RoBERTa review sentiment classifiers that passed the accuracy gate",
            model_package_group_policy=policy,
        )
        self.group.apply_removal_policy(removal_policy)
