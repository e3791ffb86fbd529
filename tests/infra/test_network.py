"""Private networking per environment: VPC without NAT, endpoints, security groups, every workload inside."""

from __future__ import annotations

import copy
import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.app_builder import build_app
from infra.constructs.vpc_endpoints import INTERFACE_ENDPOINTS
from tests.conftest import served_context

PRIVATE = ("staging", "prod")


@pytest.fixture(scope="module")
def network_templates(stages) -> dict[str, Template]:
    return {env: Template.from_stack(stages[env].network) for env in PRIVATE}


@pytest.mark.parametrize(("env", "zones"), [("staging", 2), ("prod", 3)])
def test_created_vpc_has_isolated_subnets_flow_logs_and_no_nat(network_templates, env, zones):
    template = network_templates[env]
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    subnets = template.find_resources("AWS::EC2::Subnet")
    assert len(subnets) == zones
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value()})


@pytest.mark.parametrize("env", PRIVATE)
def test_endpoints_for_every_service_the_workloads_call(network_templates, env):
    template = network_templates[env]
    endpoints = [e["Properties"] for e in template.find_resources("AWS::EC2::VPCEndpoint").values()]
    services = json.dumps([e["ServiceName"] for e in endpoints])
    for name in ("sagemaker.api", "sagemaker.runtime", "sagemaker.featurestore-runtime", "sts", "logs", "monitoring",
                 "ecr.api", "ecr.dkr", "kms", "events", "sns", "ssm"):  # fmt: skip
        assert f".{name}" in services, name
    assert len(endpoints) == len(INTERFACE_ENDPOINTS) + 1
    (gateway,) = [e for e in endpoints if e.get("VpcEndpointType") == "Gateway"]
    assert "s3" in json.dumps(gateway["ServiceName"])
    # The S3 endpoint admits the project's buckets, CDK's assets and ECR's layers only.
    policy = json.dumps(gateway["PolicyDocument"])
    assert "starport-layer-bucket" in policy and "cdk-hnb659fds-assets" in policy
    assert "roberta-sentiment-dev-models-111111111111" in policy  # promoted packages' artifacts
    assert '"Resource": "*"' not in policy
    interface = [e for e in endpoints if e.get("VpcEndpointType") == "Interface"]
    assert all(e["PrivateDnsEnabled"] is True and len(e["SecurityGroupIds"]) == 1 for e in interface)


@pytest.mark.parametrize("env", PRIVATE)
def test_security_groups_take_no_outside_ingress_and_send_https_only(network_templates, env):
    template = network_templates[env]
    text = json.dumps(template.to_json())
    assert "0.0.0.0/0" not in text and "::/0" not in text
    ingress = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()]
    assert ingress and all("SourceSecurityGroupId" in r for r in ingress)
    egress = [r["Properties"] for r in template.find_resources("AWS::EC2::SecurityGroupEgress").values()]
    for rule in egress:
        https = rule["IpProtocol"] == "tcp" and rule["FromPort"] == rule["ToPort"] == 443
        within_jobs = rule["IpProtocol"] == "-1" and rule["GroupId"] == rule.get("DestinationSecurityGroupId")
        assert https or within_jobs, rule
    assert sum(1 for r in egress if "DestinationPrefixListId" in r) == 3  # S3 for jobs, models, functions
    (self_rule,) = [r for r in egress if r["IpProtocol"] == "-1"]
    (group_id,) = {r["GroupId"]["Fn::GetAtt"][0] for r in [self_rule]}
    group = template.to_json()["Resources"][group_id]["Properties"]
    assert group["GroupDescription"].endswith("processing and training jobs")


@pytest.mark.parametrize("env", PRIVATE)
def test_every_job_of_the_training_pipeline_runs_in_the_private_subnets(stages, env):
    definition = json.loads(stages[env].pipeline.training.definition)
    steps = {s["Name"]: s for s in definition["Steps"]}
    gate = steps.pop("AccuracyGate")["Arguments"]
    steps.update({s["Name"]: s for s in gate["IfSteps"]})
    jobs = {n: s["Arguments"] for n, s in steps.items() if s["Type"] in ("Processing", "Training")}
    assert set(jobs) == {"Preprocess", "Train", "Evaluate", "BaselineFeatures", "LinkRun"}
    for name, args in jobs.items():
        vpc = args.get("VpcConfig") or args["NetworkConfig"]["VpcConfig"]
        assert len(vpc["Subnets"]) == (2 if env == "staging" else 3) and len(vpc["SecurityGroupIds"]) == 1, name
    # Scripts that call no AWS API get no network at all; Evaluate logs to MLflow where tracked.
    isolated = {n for n, a in jobs.items() if (a.get("NetworkConfig") or {}).get("EnableNetworkIsolation")}
    assert isolated == {"BaselineFeatures"}
    assert jobs["Train"]["EnableInterContainerTrafficEncryption"] is True


@pytest.mark.parametrize("env", PRIVATE)
def test_endpoint_model_and_monitoring_job_run_in_the_private_subnets(stages, env):
    template = Template.from_stack(stages[env].serving)
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "EnableNetworkIsolation": True,
            "VpcConfig": {"Subnets": Match.any_value(), "SecurityGroupIds": Match.any_value()},
        },
    )
    (step,) = json.loads(stages[env].serving.monitor.definition)["Steps"]
    network = step["Arguments"]["NetworkConfig"]
    assert network["EnableNetworkIsolation"] is False and network["VpcConfig"]["Subnets"]


def test_networking_off_leaves_dev_without_vpc(stages, templates):
    assert stages["dev"].network is None
    definition = json.loads(stages["dev"].pipeline.training.definition)
    assert "VpcConfig" not in json.dumps(definition) and "NetworkConfig" not in json.dumps(definition)
    assert not templates["dev", "serving"].find_resources("AWS::EC2::VPC")
    template = templates["dev", "serving"]
    model = next(iter(template.find_resources("AWS::SageMaker::Model").values()))["Properties"]
    assert "VpcConfig" not in model and "EnableNetworkIsolation" not in model


def test_an_existing_vpc_synthesizes_offline_from_its_ids(cdk_context, tmp_path):
    context = copy.deepcopy(served_context(cdk_context))
    context["mlops"]["environments"]["dev"]["network"] = {
        "mode": "existing",
        "vpc_id": "vpc-0123456789abcdef0",
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        "route_table_ids": ["rtb-0ccccccccccccccc3"],
    }
    app = cdk.App(context=context, outdir=str(tmp_path))
    stages = build_app(app)
    network = Template.from_stack(stages["dev"].network)
    network.resource_count_is("AWS::EC2::VPC", 0)
    network.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "RouteTableIds": ["rtb-0ccccccccccccccc3"]}
    )
    network.has_resource_properties("AWS::EC2::SecurityGroup", {"VpcId": "vpc-0123456789abcdef0"})
    definition = json.loads(stages["dev"].pipeline.training.definition)
    assert "subnet-0aaaaaaaaaaaaaaa1" in json.dumps(definition) and "subnet-0bbbbbbbbbbbbbbb2" in json.dumps(definition)
    # The batch scoring model (dev) is placed there too.
    assert "VpcConfig" in stages["dev"].pipeline.batch.definition


def test_networking_needs_no_context_lookup_at_synth(synthesized):
    # The configured zones stand in for the stack's: no availability-zones lookup (an AWS call).
    _, assembly = synthesized
    for env in ("dev", "staging", "prod"):
        manifest = json.loads((assembly / f"assembly-{env}" / "manifest.json").read_text())
        assert not manifest.get("missing"), (env, manifest.get("missing"))


def test_no_job_installs_packages_at_run_time(stages):
    # The training toolkit pip-installs a requirements.txt at the code root; the processing
    # entrypoints only unpack and run; the model's code/requirements.txt is empty on purpose.
    from infra.pipeline.code_bundle import build_code_bundle
    from ml_code.common import containers  # noqa: F401  (the images that already hold every import)

    for env in ("dev", "staging", "prod"):
        for definition in (stages[env].pipeline.training.definition, stages[env].serving.monitor.definition):
            assert "pip install" not in definition and "pip3 install" not in definition
    import tarfile
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch, tarfile.open(build_code_bundle(Path(scratch))) as bundle:
        names = bundle.getnames()
    assert "requirements.txt" not in names
    requirements = Path(__file__).resolve().parents[2] / "ml_code" / "requirements.txt"
    assert not [line for line in requirements.read_text().splitlines() if line.strip() and not line.startswith("#")]
