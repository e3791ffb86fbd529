"""The environment's managed MLflow tracking service: a SageMaker AI MLflow App.

One App per environment (``tracking`` in cdk.json), named after the environment's prefix,
its artifacts under ``mlflow/`` of the models bucket (SSE-KMS with the lake key). The App's
own service role reaches only that prefix. Jobs that log get ``grant_logging``.

IAM, as checked (Service Authorization Reference, the CloudFormation schema and the
sagemaker-mlflow 0.5 plugin): an MLflow App's data plane (the MLflow REST API at
``mlflow.sagemaker.<region>.app.aws``) is authorized by the one action
``sagemaker:CallMlflowAppApi`` on the App's ARN (the plugin signs for service ``sagemaker``
when the tracking URI is an ``mlflow-app`` ARN, and sends the ARN in ``x-sm-mlflow-app-arn``);
the granular ``sagemaker-mlflow:*`` actions are the older tracking servers'. The plugin calls
``sagemaker:DescribeMlflowApp`` on the same ARN, and the MLflow client writes and reads
artifacts in S3 itself (or through presigned URLs the App signs with its own role). One
action covering the whole REST API also means a logging job could delete runs: AWS offers
nothing finer for Apps.

The App's ARN carries a generated id, not the name: other stacks get it as a fixed-name
export (``exported_arn``), as they get the lake's bucket ARNs.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct, IConstruct

from infra.config import TrackingConfig
from infra.nag import acknowledge_wildcard

ARTIFACTS_PREFIX = "mlflow"
# S3 encrypts under SSE-KMS with GenerateDataKey (writes) and Decrypt (reads, multipart
# uploads); it never calls kms:Encrypt. Only through S3 in this region.
_KMS_FOR_S3 = ["kms:Decrypt", "kms:GenerateDataKey"]
_LOGGING_ACTIONS = ["sagemaker:CallMlflowAppApi", "sagemaker:DescribeMlflowApp"]


class TrackingApp(Construct):
    """``bucket_name``: the models bucket's fixed name (``EnvironmentConfig.models_bucket_name``),
    so roles in any stack name the artifact prefix by text; ``key``: the bucket's KMS key."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        bucket_name: str,
        key: kms.IKey,
        config: TrackingConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self._key = key
        self._export: str | None = None
        self.artifact_uri = f"s3://{bucket_name}/{ARTIFACTS_PREFIX}/"
        bucket_arn = f"arn:{cdk.Aws.PARTITION}:s3:::{bucket_name}"
        self.artifacts_arn = f"{bucket_arn}/{ARTIFACTS_PREFIX}/*"

        self.service_role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"The {name} MLflow App: its artifact store under {self.artifact_uri} only",
        )
        role = self.service_role
        acknowledge_wildcard(role, resource=self.artifacts_arn, reason="MLflow writes one folder per experiment/run")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources=[self.artifacts_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket_arn],
                conditions={"StringLike": {"s3:prefix": [ARTIFACTS_PREFIX, f"{ARTIFACTS_PREFIX}/*"]}},
            )
        )
        role.add_to_policy(self._kms_statement())

        self.app = sagemaker.CfnMlflowApp(
            self,
            "App",
            name=name,
            artifact_store_uri=self.artifact_uri,
            role_arn=role.role_arn,
            model_registration_mode=(
                "AutoModelRegistrationEnabled" if config.model_registration else "AutoModelRegistrationDisabled"
            ),
            weekly_maintenance_window_start=config.weekly_maintenance_window,
        )
        # SageMaker checks the role's access to the artifact store when it creates the App.
        self.app.node.add_dependency(role.node.find_child("DefaultPolicy"))
        self.app.apply_removal_policy(
            cdk.RemovalPolicy.DESTROY if config.removal_policy == "destroy" else cdk.RemovalPolicy.RETAIN
        )
        self.arn: str = self.app.attr_arn
        self._stack = stack

    def _kms_statement(self) -> iam.PolicyStatement:
        return iam.PolicyStatement(
            actions=_KMS_FOR_S3,
            resources=[self._key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"s3.{cdk.Aws.REGION}.amazonaws.com"}},
        )

    def exported_arn(self) -> str:
        """The App's ARN as Fn::ImportValue of a fixed-name export, for other stacks (once per stack)."""
        if self._export is None:
            self._export = self._stack.export_value(self.arn, name=f"{self._stack.stack_name}-mlflow-app-arn")
        return self._export

    def arn_for(self, scope: IConstruct) -> str:
        """The App's ARN as ``scope``'s stack may reference it."""
        return self.arn if cdk.Stack.of(scope) is self._stack else self.exported_arn()

    def grant_logging(self, grantable: iam.IGrantable) -> None:
        """What a job needs to log runs here: the App's data plane and Describe on this App's
        ARN only, objects under the artifact prefix, the bucket key through S3."""
        principal = grantable.grant_principal
        arn = self.arn_for(principal) if isinstance(principal, Construct) else self.exported_arn()
        principal.add_to_principal_policy(iam.PolicyStatement(actions=_LOGGING_ACTIONS, resources=[arn]))
        if isinstance(principal, Construct):
            acknowledge_wildcard(
                principal, resource=self.artifacts_arn, reason="MLflow logs artifacts under mlflow/<experiment>/<run>/"
            )
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"], resources=[self.artifacts_arn]
            )
        )
        principal.add_to_principal_policy(self._kms_statement())
