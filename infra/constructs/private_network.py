"""The environment's private network: private isolated subnets, VPC endpoints, security groups.

Jobs, models and functions of an environment with ``network.mode`` "create" or "existing" run
in its private subnets and reach AWS only through the endpoints (infra/constructs/
vpc_endpoints.py): no NAT gateway, no internet route. Security groups take no ingress from
outside the VPC; workloads may send HTTPS only to the endpoints' group and to S3's gateway
endpoint (its managed prefix list, looked up at deploy time), and the jobs' group may also
talk to itself (multi-node training: torchrun/NCCL between instances, encrypted by
SageMaker's inter-container traffic encryption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra.config import NetworkConfig
from infra.constructs.vpc_endpoints import add_endpoints
from infra.nag import acknowledge, acknowledge_wildcard

HTTPS = ec2.Port.tcp(443)


@dataclass(frozen=True)
class FunctionPlacement:
    """Where the project's Lambda functions run: PythonLambda's vpc props."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup

    def props(self) -> dict[str, Any]:
        return {"vpc": self.vpc, "vpc_subnets": self.subnets, "security_groups": [self.security_group]}


class PrivateNetwork(Construct):
    """``vpc``, ``subnets`` (a selection of its private subnets) and one security group per
    kind of workload: ``jobs`` (processing and training), ``models`` (endpoint and transform
    models) and ``functions`` (Lambda); ``bucket_names``: the S3 buckets the S3 endpoint's
    policy admits (besides CDK's asset buckets and ECR's layer bucket); ``parameter_path``: the
    SSM parameters the SSM endpoint admits (/<project>/<env>/)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: NetworkConfig,
        prefix: str,
        key: kms.IKey,
        bucket_names: list[str],
        parameter_path: str,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        if not config.enabled:
            raise ValueError("config: network mode 'none' needs no PrivateNetwork")
        if config.mode == "create":
            assert config.cidr is not None
            flow_logs = logs.LogGroup(
                self,
                "FlowLogs",
                encryption_key=key,
                retention=logs.RetentionDays.ONE_YEAR,
                removal_policy=removal_policy,
            )
            self.vpc: ec2.IVpc = ec2.Vpc(
                self,
                "Vpc",
                vpc_name=prefix,
                ip_addresses=ec2.IpAddresses.cidr(config.cidr),
                availability_zones=list(config.availability_zones),
                nat_gateways=0,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20)
                ],
                flow_logs={
                    "all": ec2.FlowLogOptions(destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
                },
                restrict_default_security_group=False,  # would add a custom resource; the default group is unused
            )
            # The zones come from config on purpose: looking them up would need AWS at synth.
            acknowledge(
                self.vpc, "CloudFormation-Validate::W3010", "The zones are configured: a lookup would need AWS at synth"
            )
            for subnet in self.vpc.isolated_subnets:
                cfn_subnet = subnet.node.default_child
                assert isinstance(cfn_subnet, ec2.CfnSubnet)
                cfn_subnet.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})
        else:
            assert config.vpc_id is not None
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=config.vpc_id,
                availability_zones=list(config.availability_zones),
                isolated_subnet_ids=list(config.subnet_ids),
                isolated_subnet_route_table_ids=_per_subnet(config.route_table_ids, len(config.subnet_ids)),
            )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.subnet_ids = [subnet.subnet_id for subnet in self.vpc.isolated_subnets]

        def group(name: str, description: str) -> ec2.SecurityGroup:
            return ec2.SecurityGroup(
                self, name, vpc=self.vpc, description=f"{prefix} {description}", allow_all_outbound=False
            )

        self.endpoints = group("Endpoints", "VPC interface endpoints: HTTPS from the workloads")
        self.jobs = group("Jobs", "processing and training jobs")
        self.models = group("Models", "endpoint and transform models")
        self.functions = group("Functions", "Lambda functions")
        s3_prefix_list = self._s3_prefix_list(cdk.Stack.of(self).region, key, removal_policy)
        for workload in (self.jobs, self.models, self.functions):
            workload.add_egress_rule(self.endpoints, HTTPS, "AWS APIs through the interface endpoints")
            workload.add_egress_rule(ec2.Peer.prefix_list(s3_prefix_list), HTTPS, "S3 through the gateway endpoint")
            self.endpoints.add_ingress_rule(workload, HTTPS, "HTTPS from the workloads")
        # Multi-node training: every port between instances of one job (SageMaker encrypts it).
        self.jobs.add_ingress_rule(self.jobs, ec2.Port.all_traffic(), "between instances of one job (DDP)")
        self.jobs.add_egress_rule(self.jobs, ec2.Port.all_traffic(), "between instances of one job (DDP)")
        add_endpoints(
            self,
            vpc=self.vpc,
            subnets=self.subnets,
            group=self.endpoints,
            bucket_names=bucket_names,
            prefix=prefix,
            parameter_path=parameter_path,
        )
        self.function_placement = FunctionPlacement(self.vpc, self.subnets, self.functions)

    def _s3_prefix_list(self, region: str, key: kms.IKey, removal_policy: cdk.RemovalPolicy) -> str:
        """The id of S3's managed prefix list in this region, read at deploy time (no lookup at synth)."""
        # Our own role and encrypted log group instead of the provider's AWSLambdaBasicExecutionRole.
        log_group = logs.LogGroup(
            self,
            "LookupLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=key,
            removal_policy=removal_policy,
        )
        role = iam.Role(self, "LookupRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        acknowledge_wildcard(role, resource=log_group.log_group_arn, reason="The streams of its own log group")
        call = cr.AwsSdkCall(
            service="EC2",
            action="describeManagedPrefixLists",
            parameters={"Filters": [{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{region}.s3"]}]},
            physical_resource_id=cr.PhysicalResourceId.of(f"com.amazonaws.{region}.s3"),
            output_paths=["PrefixLists.0.PrefixListId"],
        )
        lookup = cr.AwsCustomResource(
            self,
            "S3PrefixList",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,
            role=role,
            log_group=log_group,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [iam.PolicyStatement(actions=["ec2:DescribeManagedPrefixLists"], resources=["*"])]
            ),
        )
        acknowledge(self, "AwsSolutions-L1", "CDK's SDK-call provider pins its own Node.js runtime")
        acknowledge_wildcard(lookup, resource="*", reason="ec2:DescribeManagedPrefixLists takes no resource scope")
        # The provider is a stack-wide singleton; find its function by the role we gave it.
        # CDK adds DependsOn on that role although the function already references it (a
        # redundant edge cfn-lint warns about, W3005): silenced for that resource only.
        for node in cdk.Stack.of(self).node.find_all():
            if isinstance(node, lambda_.CfnFunction) and node.role == role.role_arn:
                node.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
        return lookup.get_response_field("PrefixLists.0.PrefixListId")


def _per_subnet(route_tables: tuple[str, ...], subnets: int) -> list[str]:
    """One route table per subnet: a single shared table is repeated."""
    return list(route_tables) if len(route_tables) == subnets else [route_tables[0]] * subnets
