"""The delivery pipeline: CDK Pipelines, self-mutating, dev -> staging -> approval -> prod.

One synth per run tests everything (``make test``: unit and e2e tests, cdk-nag, cfn-lint),
looks up the model package dev serves and synthesizes the app with it for staging and
prod. Both deploy that same cloud assembly, so prod gets, after the manual approval,
exactly the package version staging served and passed its checks with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import pipelines
from constructs import Construct

from infra.config import DeliveryConfig, EnvironmentConfig
from infra.constructs.data_lake import ACCESS_LOG_BUCKET_REASON
from infra.constructs.delivery_checks_role import delivery_checks_role_name
from infra.delivery.asset_roles import scope_asset_build_actions
from infra.delivery.cfn_sub import prefer_sub_in_action_configurations
from infra.delivery.nag import acknowledge_pipeline_findings
from infra.pipeline.images import repository_arn_of
from infra.scanner_metadata import acknowledge_scanner
from infra.stage import MlopsStage

DELIVERY_STACK_ID = "Delivery"
ROOT = Path(__file__).resolve().parents[2]
# The CLI the pipeline's self-mutation and asset steps install: the one package.json pins.
CDK_CLI_VERSION = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
# CodeBuild's standard image offers the Python and Node.js the Makefile expects.
RUNTIMES = codebuild.BuildSpec.from_object(
    {"phases": {"install": {"runtime-versions": {"python": "3.11", "nodejs": "20"}}}}
)


def _role_arn(config: EnvironmentConfig) -> str:
    return f"arn:{cdk.Aws.PARTITION}:iam::{config.account}:role/{delivery_checks_role_name(config)}"


class DeliveryStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeliveryConfig,
        stages: list[tuple[MlopsStage, EnvironmentConfig]],
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.check_placement = self._check_placement(config)
        self.source = self._source(config)
        source_env = stages[0][1]
        lookup_role = "" if source_env.account == self.account else f" --assume-role-arn {_role_arn(source_env)}"
        self.synth = pipelines.CodeBuildStep(
            "Synth",
            input=self.source,
            primary_output_directory="cdk.out",
            partial_build_spec=RUNTIMES,
            build_environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0, compute_type=codebuild.ComputeType.LARGE
            ),
            commands=[
                "make test",  # nothing untested deploys: tests, cdk-nag and cfn-lint gates
                f".venv/bin/python -m tools.promotion context --from {source_env.name}{lookup_role} > promotion.args",
                "cat promotion.args",
                "npx cdk synth --quiet $(cat promotion.args)",
            ],
            role_policy_statements=self._lookup_permissions(source_env),
            timeout=cdk.Duration.minutes(90),
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=config.pipeline_name,
            synth=self.synth,
            self_mutation=True,
            artifact_bucket=(artifacts := self._artifact_bucket()),
            cli_version=CDK_CLI_VERSION,
            docker_credentials=self._base_image_credentials([stage for stage, _ in stages]),
        )
        for stage, env in stages:
            pre = [self._approval(env)] if env.name == "prod" else []
            post = [self._checks(env)] if env is not source_env else []
            self.pipeline.add_stage(stage, pre=pre, post=post)
        self.pipeline.build_pipeline()
        scope_asset_build_actions(self.pipeline)  # CDK grants them on *: scanners flag it (CKV_AWS_111)
        acknowledge_pipeline_findings(self.pipeline, artifacts)
        cfn_pipeline = cast(codepipeline.CfnPipeline, self.pipeline.pipeline.node.default_child)
        prefer_sub_in_action_configurations(cfn_pipeline)
        # CDK adds DependsOn on the pipeline's role although RoleArn already references it:
        # the redundant edge cfn-lint warns about (W3005), silenced for this resource only.
        cfn_pipeline.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})

    def _base_image_credentials(self, stages: list[MlopsStage]) -> list[pipelines.DockerCredential]:
        """containers/training builds FROM the Hugging Face DLC in AWS's own registry
        (763104351884): the asset builds log in to exactly that repository, in each region an
        environment's pipeline runs in; synth and self-mutation build no image and get nothing."""
        arns = sorted({repository_arn_of(stage.pipeline.training.image.base_image_uri) for stage in stages})
        if not arns:
            return []
        repositories = [
            ecr.Repository.from_repository_arn(self, f"TrainingBaseImage{index}", arn) for index, arn in enumerate(arns)
        ]
        return [pipelines.DockerCredential.ecr(repositories, usages=[pipelines.DockerCredentialUsage.ASSET_PUBLISHING])]

    def _artifact_bucket(self) -> s3.Bucket:
        """Artifacts under a customer-managed, rotating key (the target accounts' deploy roles
        get decrypt grants on it from CDK Pipelines), access-logged like the data lake."""
        logs = s3.Bucket(
            self,
            "ArtifactAccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=cdk.Duration.days(365), noncurrent_version_expiration=cdk.Duration.days(30))
            ],
        )
        acknowledge_scanner(
            cast(s3.CfnBucket, logs.node.default_child),
            checkov="CKV_AWS_18",
            cfn_nag="W35",
            reason=ACCESS_LOG_BUCKET_REASON,
        )
        key = kms.Key(self, "ArtifactKey", enable_key_rotation=True, description="Delivery pipeline artifacts")
        return s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=logs,
            server_access_logs_prefix="artifacts/",
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(30))],
        )

    def _source(self, config: DeliveryConfig) -> pipelines.CodePipelineSource:
        if config.source_kind == "codecommit":
            repository = codecommit.Repository.from_repository_name(self, "Repository", config.repository)
            return pipelines.CodePipelineSource.code_commit(repository, config.branch)
        if config.connection_arn is None:  # load_delivery_config requires one for this kind
            raise ValueError(f"a {config.source_kind} source needs a connection_arn")
        return pipelines.CodePipelineSource.connection(
            config.repository, config.branch, connection_arn=config.connection_arn
        )

    def _lookup_permissions(self, env: EnvironmentConfig) -> list[iam.PolicyStatement]:
        """The source environment's served package: read directly in this account (its
        checks role does not exist before its first deploy), else through that role."""
        if env.account != self.account:
            return [iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[_role_arn(env)])]
        parameter = self.format_arn(
            service="ssm", resource="parameter", resource_name=env.served_model_parameter.lstrip("/")
        )
        packages = self.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{env.model_package_group_name}/*"
        )
        return [
            iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[parameter]),
            iam.PolicyStatement(actions=["sagemaker:DescribeModelPackage"], resources=[packages]),
        ]

    @staticmethod
    def _approval(env: EnvironmentConfig) -> pipelines.ManualApprovalStep:
        package = env.serving.model_package_arn or "no model package (infrastructure only)"
        return pipelines.ManualApprovalStep(
            "PromoteToProd", comment=f"Deploy to {env.name}: {package}, as served and checked in staging."
        )

    def _checks(self, env: EnvironmentConfig) -> pipelines.CodeBuildStep:
        """Post-deploy checks, through the environment's read-only delivery-checks role."""
        assume = f" --assume-role-arn {_role_arn(env)}"
        commands = ["python -m pip install --quiet -r requirements-tools.txt"]
        if env.serving.model_package_arn:
            commands.append(
                f"python -m tools.endpoint_check --env {env.name}"
                f" --expected-model-package {env.serving.model_package_arn}{assume}"
            )
        else:
            commands.append(f'echo "{env.name}: no model package promoted yet, so no endpoint to invoke"')
        commands.append(f"python -m tools.pipeline_drift --env {env.name} --cdk-out cdk.out --resolve{assume}")
        return pipelines.CodeBuildStep(
            f"Verify{env.name.title()}",
            input=self.source,
            partial_build_spec=RUNTIMES,
            additional_inputs={"cdk.out": self.pipeline.cloud_assembly_file_set},
            commands=commands,
            role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[_role_arn(env)])],
            **self.check_placement,
        )

    def _check_placement(self, config: DeliveryConfig) -> dict[str, Any]:
        """CodeBuildStep's VPC props for the check steps: the delivery account's own private
        subnets (``delivery.network``, an existing VPC by ids: no lookup), or none."""
        network = config.network
        if not network.enabled:
            return {}
        assert network.vpc_id is not None
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "ChecksVpc",
            vpc_id=network.vpc_id,
            availability_zones=list(network.availability_zones),
            private_subnet_ids=list(network.subnet_ids),
        )
        group = ec2.SecurityGroup(
            self, "ChecksGroup", vpc=vpc, description="Delivery checks: HTTPS out only", allow_all_outbound=False
        )
        # pip (PyPI) and the AWS APIs, through the VPC's NAT, proxy or endpoints; no ingress.
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: PyPI and AWS APIs")
        return {
            "vpc": vpc,
            "subnet_selection": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            "security_groups": [group],
        }
