"""The data-quality baseline registered with a model package, looked up at deploy time."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.nag import acknowledge, acknowledge_wildcard
from infra.scanner_metadata import SDK_CALL_PROVIDER_FINDINGS, acknowledge_scanner

_BASELINE = "DriftCheckBaselines.ModelDataQuality"
# What IaC scanners raise on CDK's provider function, and why (W58: our role, our log group).
_PROVIDER_FINDINGS = (
    *SDK_CALL_PROVIDER_FINDINGS,
    (None, "W58", "The stack creates its log group; the role writes there only, so no logs:CreateLogGroup"),
)


class PackageBaseline(Construct):
    """S3 URIs of the statistics and constraints the training pipeline registered with the package.

    The pipeline's quality-check step computes them per training run, so only the registry
    knows them: a DescribeModelPackage at deploy time (an SDK call custom resource) reads
    them, and a new package ARN re-reads them. No code of ours runs for it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_package_arn: str,
        key: kms.IKey,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # Our own role and log group instead of the provider's AWSLambdaBasicExecutionRole:
        # it writes to this one encrypted log group only.
        logs_ = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=key,
            removal_policy=removal_policy,
        )
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[logs_.log_group_arn])
        )
        acknowledge_wildcard(role, resource=logs_.log_group_arn, reason="The streams of its own log group")
        call = cr.AwsSdkCall(
            service="SageMaker",
            action="describeModelPackage",
            parameters={"ModelPackageName": model_package_arn},
            physical_resource_id=cr.PhysicalResourceId.of(model_package_arn),
            output_paths=[f"{_BASELINE}.Statistics.S3Uri", f"{_BASELINE}.Constraints.S3Uri"],
        )
        self.lookup = cr.AwsCustomResource(
            self,
            "Describe",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,
            role=role,
            log_group=logs_,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=[model_package_arn])]
            ),
        )
        # The provider is a stack-wide singleton; find its function by the role we gave it.
        # CDK adds DependsOn on that role although the function already references it (a
        # redundant edge cfn-lint warns about, W3005): silenced for that resource only.
        for node in cdk.Stack.of(self).node.find_all():
            if isinstance(node, lambda_.CfnFunction) and node.role == role.role_arn:
                node.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
                for checkov, cfn_nag, reason in _PROVIDER_FINDINGS:
                    acknowledge_scanner(node, checkov=checkov, cfn_nag=cfn_nag, reason=reason)
        self.statistics_uri = self.lookup.get_response_field(f"{_BASELINE}.Statistics.S3Uri")
        self.constraints_uri = self.lookup.get_response_field(f"{_BASELINE}.Constraints.S3Uri")
        acknowledge(self, "AwsSolutions-L1", "CDK's SDK-call provider pins its own Node.js runtime")
