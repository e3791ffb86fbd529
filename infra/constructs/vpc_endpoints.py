"""The VPC endpoints the private workloads call, and the S3 endpoint's policy.

What calls what: processing and training jobs pull images (ECR api and dkr, image layers
from S3), read and write S3, log (CloudWatch Logs), publish metrics (CloudWatch), decrypt
(KMS), ingest into the Feature Store (featurestore-runtime), get credentials (STS). The
monitoring job resolves the served package (SSM, SageMaker API). The deploy function calls
the SageMaker API, SSM and SNS; the delivery checks invoke the endpoint (SageMaker runtime);
EventBridge for functions that put events. Interface endpoints are billed per AZ-hour each.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

_SERVICE = ec2.InterfaceVpcEndpointAwsService
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SageMakerApi": _SERVICE.SAGEMAKER_API,
    "SageMakerRuntime": _SERVICE.SAGEMAKER_RUNTIME,
    "FeatureStoreRuntime": _SERVICE.SAGEMAKER_FEATURESTORE_RUNTIME,
    "Sts": _SERVICE.STS,
    "Logs": _SERVICE.CLOUDWATCH_LOGS,
    "Monitoring": _SERVICE.CLOUDWATCH_MONITORING,
    "EcrApi": _SERVICE.ECR,
    "EcrDocker": _SERVICE.ECR_DOCKER,
    "Kms": _SERVICE.KMS,
    "Events": _SERVICE.EVENTBRIDGE,
    "Sns": _SERVICE.SNS,
    "Ssm": _SERVICE.SSM,
}


def add_endpoints(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    group: ec2.ISecurityGroup,
    bucket_names: list[str],
    prefix: str,
    parameter_path: str,
) -> None:
    """The S3 gateway endpoint (policy: ``bucket_names``, CDK's asset buckets, ECR's layer
    bucket) and one interface endpoint per service, private DNS on, in ``group``. Where the
    project's use is narrow, the endpoint's policy says so: SSM only for the parameters under
    ``parameter_path`` (/<project>/<env>/), the SageMaker runtime only for endpoints named
    ``prefix``-*. The other services' calls are too varied (and already scoped by IAM)."""
    stack = cdk.Stack.of(scope)
    gateway = ec2.GatewayVpcEndpoint(
        scope, "S3", vpc=vpc, service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[subnets]
    )
    buckets = [
        *bucket_names,
        # CDK's file assets (the code archive, Lambda code) and ECR's image layers.
        f"cdk-hnb659fds-assets-{stack.account}-{stack.region}",
        f"prod-{stack.region}-starport-layer-bucket",
    ]
    gateway.add_to_policy(
        iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=[
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListBucket",
                "s3:GetBucketLocation",
            ],
            resources=[
                arn
                for name in buckets
                for arn in (f"arn:{stack.partition}:s3:::{name}", f"arn:{stack.partition}:s3:::{name}/*")
            ],
        )
    )
    scoped = {
        "Ssm": iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter"],
            resources=[
                stack.format_arn(service="ssm", resource="parameter", resource_name=f"{parameter_path.strip('/')}/*")
            ],
        ),
        "SageMakerRuntime": iam.PolicyStatement(
            principals=[iam.AnyPrincipal()],
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resources=[stack.format_arn(service="sagemaker", resource="endpoint", resource_name=f"{prefix}-*")],
        ),
    }
    for name, service in INTERFACE_ENDPOINTS.items():
        endpoint = ec2.InterfaceVpcEndpoint(
            scope,
            name,
            vpc=vpc,
            service=service,
            subnets=subnets,
            security_groups=[group],
            private_dns_enabled=True,
            open=False,  # no ingress from the whole VPC: only the workloads' groups (PrivateNetwork)
        )
        if name in scoped:
            endpoint.add_to_policy(scoped[name])
