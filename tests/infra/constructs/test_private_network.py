"""PrivateNetwork on a bare stack: created or existing VPC, endpoints with scoped policies, security groups."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.config import NetworkConfig
from infra.constructs.private_network import PrivateNetwork
from infra.constructs.vpc_endpoints import INTERFACE_ENDPOINTS
from tests.infra.constructs.conftest import lake_key

CREATE = NetworkConfig("create", ("us-east-1a", "us-east-1b"), cidr="10.9.0.0/16")
EXISTING = NetworkConfig(
    "existing",
    ("us-east-1a", "us-east-1b"),
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=("subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"),
    route_table_ids=("rtb-0ccccccccccccccc3", "rtb-0ddddddddddddddd4"),
)


def _network(stack: cdk.Stack, config: NetworkConfig) -> PrivateNetwork:
    return PrivateNetwork(
        stack,
        "Net",
        config=config,
        prefix="demo-test",
        key=lake_key(stack),
        bucket_names=["demo-test-raw"],
        parameter_path="/demo/test/",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def test_mode_none_is_refused(stack):
    with pytest.raises(ValueError, match="network mode 'none'"):
        _network(stack, NetworkConfig("none"))


def test_created_vpc_is_isolated_with_encrypted_flow_logs(stack):
    _network(stack, CREATE)
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.9.0.0/16"})
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})
    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": 365})


def test_endpoint_policies_are_scoped_to_the_project(stack):
    _network(stack, CREATE)
    endpoints = [e["Properties"] for e in Template.from_stack(stack).find_resources("AWS::EC2::VPCEndpoint").values()]
    assert len(endpoints) == len(INTERFACE_ENDPOINTS) + 1
    by_service = {json.dumps(e["ServiceName"]): e for e in endpoints}
    ssm = next(e for s, e in by_service.items() if ".ssm" in s)
    assert "parameter/demo/test/*" in json.dumps(ssm["PolicyDocument"])
    runtime = next(e for s, e in by_service.items() if ".sagemaker.runtime" in s)
    assert "endpoint/demo-test-*" in json.dumps(runtime["PolicyDocument"])
    s3 = next(e for e in endpoints if e.get("VpcEndpointType") == "Gateway")
    assert "demo-test-raw" in json.dumps(s3["PolicyDocument"])
    others = [e for s, e in by_service.items() if ".ssm" not in s and ".sagemaker.runtime" not in s and ".s3" not in s]
    assert all("PolicyDocument" not in e for e in others)  # their calls are scoped by IAM


def test_workload_groups_send_https_to_the_endpoints_and_s3_only(stack):
    network = _network(stack, CREATE)
    template = Template.from_stack(stack)
    egress = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupEgress").values()]
    assert len(egress) == 3 * 2 + 1  # endpoints and S3 per workload group; jobs to themselves
    assert {(r["FromPort"], r["ToPort"]) for r in egress if r["IpProtocol"] == "tcp"} == {(443, 443)}
    for group in (network.jobs, network.models, network.functions, network.endpoints):
        resource = stack.resolve(group.node.default_child.logical_id)
        props = template.to_json()["Resources"][resource]["Properties"]
        assert props.get("SecurityGroupEgress", []) in ([], [{"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic", "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}])  # fmt: skip
        assert "SecurityGroupIngress" not in props


def test_an_existing_vpc_is_used_by_its_ids_without_lookup(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Existing", env=cdk.Environment(account="123456789012", region="us-east-1"))
    network = _network(stack, EXISTING)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::VPC", 0)
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-0ccccccccccccccc3", "rtb-0ddddddddddddddd4"]},
    )
    assert network.subnet_ids == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
    app.synth()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert not manifest.get("missing")  # no context lookup (an AWS call at synth)
