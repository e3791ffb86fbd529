"""The role the monitoring pipeline and its DriftMonitor processing job run as.

It reads only this endpoint's capture (and the ground-truth prefix, if any), writes only this
endpoint's reports, reads the served package's reference and evaluation where the training
pipeline wrote them (``ArtifactSource``), resolves the served package (its SSM parameter,
DescribeModelPackage on the allowed groups), publishes metrics in the project's namespace
only, and creates only processing jobs named with the environment's monitor prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.batch_scoring_role import packages_of
from infra.constructs.container_grants import grant_container_basics
from infra.nag import acknowledge_wildcard


@dataclass(frozen=True)
class MonitorAccess:
    """``capture_arn``/``reports_arn``/``ground_truth_arn``: object-ARN prefixes (ending /*)."""

    pipeline_name: str
    job_prefix: str
    bucket_arns: Sequence[str]  # buckets listed: the monitoring bucket, the ground truth's
    capture_arn: str
    reports_arn: str
    ground_truth_arn: str | None
    key_arn: str  # the lake key: capture, reports and job volumes
    served_parameter: str | None  # SSM parameter name, starts with "/"; None: the job needs no package
    group_arns: Sequence[str]  # model package groups whose versions may be served
    metric_namespace: str
    image_repository: tuple[str, str]  # (registry account, repository) of the monitor image
    endpoint_metrics: bool = False  # may read the endpoint's CloudWatch metrics


class DriftMonitorRole(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, access: MonitorAccess, artifacts: ArtifactSource
    ) -> None:
        super().__init__(scope, construct_id)
        stack, a = cdk.Stack.of(self), access
        role = self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs the {a.pipeline_name} SageMaker pipeline and its job",
        )

        def allow(actions: list[str], arns: list[str], **conditions) -> None:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=arns, conditions=conditions or None))

        def wildcard(resource: str, reason: str) -> str:
            acknowledge_wildcard(role, resource=resource, reason=reason)
            return resource

        reads = [
            wildcard(a.capture_arn, "SageMaker writes capture files per variant and hour under the endpoint's prefix")
        ]
        if a.ground_truth_arn:
            reads.append(wildcard(a.ground_truth_arn, "Callers upload ground-truth files under this prefix"))
        allow(["s3:GetObject"], reads)
        allow(["s3:ListBucket"], list(a.bucket_arns))  # the job lists the window's hour folders
        allow(["s3:PutObject", "s3:AbortMultipartUpload"], [wildcard(a.reports_arn, "One dated folder per run")])
        allow(["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [a.key_arn])
        allow(["kms:CreateGrant"], [a.key_arn], Bool={"kms:GrantIsForAWSResource": "true"})  # the job's volume
        if a.served_parameter is not None:  # the drift job resolves the served package's reference
            artifacts.grant_read(role, ["baselines"])  # reference.csv and evaluation.json of the package
            allow(
                ["ssm:GetParameter"],
                [stack.format_arn(service="ssm", resource="parameter", resource_name=a.served_parameter.lstrip("/"))],
            )
            packages = [wildcard(packages_of(arn), "Whichever version of the group is served") for arn in a.group_arns]
            allow(["sagemaker:DescribeModelPackage"], packages)
        if a.endpoint_metrics:  # the comparison job reads per-variant latency and errors
            acknowledge_wildcard(role, resource="*", reason="CloudWatch metric reads take no resource scope")
            allow(["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics"], ["*"])

        jobs = wildcard(
            stack.format_arn(service="sagemaker", resource="processing-job", resource_name=f"{a.job_prefix}*"),
            "Pipelines name each execution's job with the pipeline's job prefix + an id",
        )
        allow(
            [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:AddTags",
            ],
            [jobs],
        )
        allow(["iam:PassRole"], [role.role_arn], StringEquals={"iam:PassedToService": "sagemaker.amazonaws.com"})
        grant_container_basics(
            role,
            repositories=[a.image_repository],
            metric_namespace=a.metric_namespace,
            log_groups=[("/aws/sagemaker/ProcessingJobs", "Processing jobs write one log stream per job and instance")],
        )
