"""A Python Lambda function from lambdas/<name>/, with Powertools vendored in, least privilege.

Powertools for AWS Lambda is copied from this environment's installed (pinned) package
into the asset, so the deployed code runs the version the tests ran, synth needs no
network or Docker, and no public layer version has to be guessed.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge, acknowledge_wildcard
from infra.scanner_metadata import acknowledge_scanner

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
VENDORED = ("aws_lambda_powertools", "typing_extensions")  # jmespath ships with boto3 in the runtime
# What Lambda needs to attach a function to a VPC (the AWSLambdaVPCAccessExecutionRole
# managed policy's EC2 actions, written out: nag IAM4). DescribeNetworkInterfaces works
# only on "*", and Lambda manages the ENIs it creates itself, so none takes a narrower scope.
ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
ENI_REASON = "Lambda's ENI actions take no resource scope (DescribeNetworkInterfaces works on * only)"
NO_VPC_REASON = (
    "Networking is off in this environment by config (network.mode none): the function runs in "
    "Lambda's own network and calls AWS APIs only"
)


def _vendor(target: Path) -> None:
    for name in VENDORED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"{name} must be installed to be vendored into the Lambda assets", name=name)
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, target / origin.name)


class PythonLambda(Construct):
    """``lambdas/<name>/handler.py:handler`` with its own role, log group, and an encrypted DLQ.

    ``key`` also encrypts its environment variables. With ``vpc`` it runs in that VPC (in
    ``vpc_subnets``, behind ``security_groups`` or one CDK creates), its role allowed the
    ENI actions Lambda needs; without, it runs outside any VPC, acknowledged in the template.
    ``function_name``: a fixed name where operators invoke the function (default: generated).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        key: kms.IKey,
        environment: dict[str, str],
        removal_policy: cdk.RemovalPolicy,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        function_name: str | None = None,
    ):
        """``removal_policy``: of its log group (the environment's: logs outlive a stack in prod)."""
        if vpc is None and (vpc_subnets is not None or security_groups is not None):
            raise ValueError("vpc_subnets and security_groups need a vpc")
        if not (LAMBDAS / name / "handler.py").is_file():
            raise ValueError(f"name: no lambdas/{name}/handler.py to deploy")
        super().__init__(scope, construct_id)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=key,
            removal_policy=removal_policy,
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(self.dead_letters, "AwsSolutions-SQS3", "This queue is the dead-letter queue of the function")
        with tempfile.TemporaryDirectory(prefix=f"lambda-{name}-") as scratch:
            bundle = Path(scratch)
            for source in sorted((LAMBDAS / name).glob("*.py")):
                shutil.copy2(source, bundle / source.name)
            _vendor(bundle)
            self.function = lambda_.Function(
                self,
                "Function",
                function_name=function_name,
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(bundle)),
                role=self.role,
                environment=environment,
                environment_encryption=key,
                vpc=vpc,
                vpc_subnets=vpc_subnets,
                security_groups=list(security_groups) if security_groups is not None else None,
                timeout=cdk.Duration.seconds(30),
                memory_size=256,
                log_group=self.log_group,
                dead_letter_queue=self.dead_letters,
                retry_attempts=2,
                reserved_concurrent_executions=5,
            )
        # CDK's Function adds DependsOn on its role although Role is already a GetAtt: a
        # redundant edge cfn-lint warns about (W3005). Silenced for this resource only.
        cfn_function = cast(lambda_.CfnFunction, self.function.node.default_child)
        cfn_function.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        acknowledge_scanner(
            cfn_function,
            cfn_nag="W58",
            reason="The stack creates its log group; the role writes there only, so no logs:CreateLogGroup",
        )
        if vpc is None:
            acknowledge_scanner(cfn_function, checkov="CKV_AWS_117", cfn_nag="W89", reason=NO_VPC_REASON)
        # Written out instead of the AWSLambdaBasicExecutionRole managed policy (nag IAM4).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        acknowledge_wildcard(
            self.role, resource=self.log_group.log_group_arn, reason="The streams of its own log group"
        )
        if vpc is not None:
            # Before the function: Lambda checks the role may manage ENIs when it is created.
            eni = iam.Policy(
                self, "NetworkInterfaces", statements=[iam.PolicyStatement(actions=list(ENI_ACTIONS), resources=["*"])]
            )
            self.role.attach_inline_policy(eni)
            self.function.node.add_dependency(eni)
            acknowledge_wildcard(eni, resource="*", reason=ENI_REASON)
            cfn_eni = cast(iam.CfnPolicy, eni.node.default_child)
            acknowledge_scanner(cfn_eni, checkov="CKV_AWS_111", cfn_nag="W12", reason=ENI_REASON)
        # CDK's grant for sending to the KMS-encrypted dead-letter queue.
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge_wildcard(self.role, action=action, reason="Encrypting dead letters with the queue's key only")
