"""A Python Lambda function from lambdas/<name>/, with Powertools vendored in, least privilege.

Powertools for AWS Lambda is copied from this environment's installed (pinned) package
into the asset, so the deployed code runs the version the tests ran, synth needs no
network or Docker, and no public layer version has to be guessed.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.nag import acknowledge, acknowledge_wildcard

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
VENDORED = ("aws_lambda_powertools", "typing_extensions")  # jmespath ships with boto3 in the runtime


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
    """``lambdas/<name>/handler.py:handler`` with its own role, log group, and an encrypted DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        key: kms.IKey,
        environment: dict[str, str],
        removal_policy: cdk.RemovalPolicy,
    ):
        """``removal_policy``: of its log group (the environment's: logs outlive a stack in prod)."""
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
                runtime=lambda_.Runtime.PYTHON_3_14,
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(bundle)),
                role=self.role,
                environment=environment,
                timeout=cdk.Duration.seconds(30),
                memory_size=256,
                log_group=self.log_group,
                dead_letter_queue=self.dead_letters,
                retry_attempts=2,
                reserved_concurrent_executions=5,
            )
        # CDK's Function adds DependsOn on its role although Role is already a GetAtt: a
        # redundant edge cfn-lint warns about (W3005). Silenced for this resource only.
        cast(lambda_.CfnFunction, self.function.node.default_child).add_metadata(
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
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
        # CDK's grant for sending to the KMS-encrypted dead-letter queue.
        for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
            acknowledge_wildcard(self.role, action=action, reason="Encrypting dead letters with the queue's key only")
