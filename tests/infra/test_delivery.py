"""The delivery pipeline: source, tested synth, stage order, approval before prod, checks, keys."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app_builder import build_app
from infra.config import ConfigError, load_delivery_config
from infra.delivery.cfn_sub import join_to_sub
from infra.stacks.delivery_stack import CDK_CLI_VERSION, DELIVERY_STACK_ID
from tests.conftest import SERVED_PACKAGE


@pytest.fixture(scope="module")
def delivery(stages) -> Template:
    app = next(iter(stages.values())).node.scope
    return Template.from_stack(app.node.find_child(DELIVERY_STACK_ID))


def _pipeline(template: Template) -> dict:
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return pipeline["Properties"]


def _actions(pipeline: dict, stage: str) -> list[dict]:
    return next(s["Actions"] for s in pipeline["Stages"] if s["Name"] == stage)


def _buildspec(template: Template, project_fragment: str) -> dict:
    projects = template.find_resources("AWS::CodeBuild::Project")
    (project,) = [p for logical_id, p in projects.items() if project_fragment in logical_id]
    spec = project["Properties"]["Source"]["BuildSpec"]
    if isinstance(spec, dict):  # a Fn::Join around tokens (the partition in role ARNs)
        spec = "".join(part if isinstance(part, str) else "aws" for part in spec["Fn::Join"][1])
    return json.loads(spec)


def test_stages_run_source_synth_selfupdate_assets_dev_staging_prod(delivery):
    names = [stage["Name"] for stage in _pipeline(delivery)["Stages"]]
    assert names == ["Source", "Build", "UpdatePipeline", "Assets", "dev", "staging", "prod"]
    (source,) = _actions(_pipeline(delivery), "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["FullRepositoryId"] == "example-org/roberta-sentiment-mlops"
    assert source["Configuration"]["BranchName"] == "main"


def test_synth_runs_the_whole_test_suite_before_synthesizing_the_promoted_package(delivery):
    commands = _buildspec(delivery, "Synth")["phases"]["build"]["commands"]
    assert commands[0] == "make test"
    assert re.search(r"tools\.promotion context --from dev", commands[1])
    assert commands[-1].startswith("npx cdk synth") and "promotion.args" in commands[-1]
    assert commands.index("make test") < len(commands) - 1


def test_manual_approval_comes_before_anything_deploys_to_prod(delivery):
    actions = _actions(_pipeline(delivery), "prod")
    approval = [a for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
    assert len(approval) == 1 and approval[0]["Name"] == "PromoteToProd"
    deploys = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    assert deploys and min(a["RunOrder"] for a in deploys) > approval[0]["RunOrder"]
    # The package named in the approval is the one this run's synth gave staging and prod.
    assert SERVED_PACKAGE in approval[0]["Configuration"]["CustomData"]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_post_deploy_checks_invoke_the_endpoint_and_compare_the_pipeline_definition(delivery, env):
    actions = _actions(_pipeline(delivery), env)
    deploys = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
    (verify,) = [a for a in actions if a["Name"] == f"Verify{env.title()}"]
    assert verify["RunOrder"] > max(a["RunOrder"] for a in deploys)
    commands = _buildspec(delivery, f"Verify{env.title()}")["phases"]["build"]["commands"]
    role = f"arn:aws:iam::{'222222222222' if env == 'staging' else '333333333333'}:role/roberta-sentiment-{env}-delivery-checks"
    assert any(f"tools.endpoint_check --env {env} --expected-model-package {SERVED_PACKAGE}" in c for c in commands)
    assert any(f"tools.pipeline_drift --env {env} --cdk-out cdk.out" in c for c in commands)
    assert all(f"--assume-role-arn {role}" in c for c in commands if c.startswith("python -m tools."))


def test_deploys_assume_the_bootstrap_roles_of_each_target_account(delivery):
    pipeline = _pipeline(delivery)
    for env, account in (("dev", "111111111111"), ("staging", "222222222222"), ("prod", "333333333333")):
        deploys = [a for a in _actions(pipeline, env) if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        roles = {json.dumps(a["RoleArn"]) for a in deploys}
        assert roles and all(f"cdk-hnb659fds-deploy-role-{account}-us-east-1" in r for r in roles)
        exec_roles = {json.dumps(a["Configuration"].get("RoleArn")) for a in deploys if "RoleArn" in a["Configuration"]}
        assert all("Fn::Sub" in r and f"cfn-exec-role-{account}" in r for r in exec_roles)


def test_artifacts_are_encrypted_with_a_rotating_customer_managed_key(delivery):
    pipeline = _pipeline(delivery)
    store = pipeline["ArtifactStore"]
    assert store["EncryptionKey"]["Type"] == "KMS"
    key_id = store["EncryptionKey"]["Id"]["Fn::GetAtt"][0]
    key = delivery.find_resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    bucket_id = store["Location"]["Ref"]
    bucket = delivery.find_resources("AWS::S3::Bucket")[bucket_id]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert "LoggingConfiguration" in bucket and bucket["PublicAccessBlockConfiguration"]["BlockPublicAcls"] is True


def test_asset_roles_may_start_builds_of_their_own_asset_projects_only(delivery):
    projects = delivery.find_resources("AWS::CodeBuild::Project")
    policies = delivery.find_resources("AWS::IAM::Policy")
    asset_policies = {logical: p for logical, p in policies.items() if logical.startswith("PipelineAssets")}
    assert len(asset_policies) == 2  # files and container images
    for policy in asset_policies.values():
        [role] = [ref["Ref"] for ref in policy["Properties"]["Roles"]]
        own = sorted(
            logical
            for logical, project in projects.items()
            if project["Properties"]["ServiceRole"] == {"Fn::GetAtt": [role, "Arn"]}
        )
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        # The one action on "*": the ECR login for the training image's base (AWS scopes it to nothing).
        assert all(s["Resource"] != "*" or s["Action"] == "ecr:GetAuthorizationToken" for s in statements)
        [builds] = [s for s in statements if "codebuild:StartBuild" in s["Action"]]
        assert own and sorted(r["Fn::GetAtt"][0] for r in builds["Resource"]) == own


def test_pipeline_mutates_itself_with_the_pinned_cdk_cli(delivery):
    spec = _buildspec(delivery, "SelfMutation")
    assert any(f"aws-cdk@{CDK_CLI_VERSION}" in c for c in spec["phases"]["install"]["commands"])
    assert json.loads(Path("package.json").read_text())["devDependencies"]["aws-cdk"] == CDK_CLI_VERSION


@pytest.mark.parametrize(("env", "account"), [("staging", "222222222222"), ("prod", "333333333333")])
def test_checks_role_trusts_only_the_delivery_account_and_only_reads(templates, env, account):
    template = templates[env, "serving"]
    roles = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": f"roberta-sentiment-{env}-delivery-checks"}}
    )
    ((role_id, role),) = roles.items()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert ":iam::111111111111:root" in json.dumps(trust["Principal"])
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    actions = {
        a
        for statements in policies
        for s in statements
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    writes = {a for a in actions if not re.match(r"^[a-z]+:(Describe|Get|List|InvokeEndpoint)", a)}
    assert actions and writes == set()


def test_codecommit_source_is_supported(cdk_context, tmp_path):
    context = copy.deepcopy(cdk_context)
    context["mlops"]["delivery"]["source"] = {
        "kind": "codecommit",
        "repository": "roberta-sentiment-mlops",
        "branch": "release",
    }
    app = cdk.App(context=context, outdir=str(tmp_path))
    build_app(app)
    template = Template.from_stack(app.node.find_child(DELIVERY_STACK_ID))
    (source,) = _actions(_pipeline(template), "Source")
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert (
        source["Configuration"]["RepositoryName"] == "roberta-sentiment-mlops"
        and source["Configuration"]["BranchName"] == "release"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "github"}, "delivery.source.kind: expected one of codeconnections, codecommit"),
        (
            {"connection_arn": "arn:aws:iam::111111111111:role/x"},
            "delivery.source.connection_arn: expected a CodeConnections",
        ),
        ({"repository": "just-a-name"}, "delivery.source.repository: expected owner/name for a connection"),
    ],
)
def test_bad_delivery_source_fails_naming_the_key(cdk_context, change, message):
    context = copy.deepcopy(cdk_context["mlops"])
    context["delivery"]["source"].update(change)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_delivery_config(context)


def test_join_to_sub_keeps_meaning():
    joined = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:role/${x}-", {"Fn::GetAtt": ["Role", "Arn"]}]]
    }
    assert join_to_sub(joined) == {"Fn::Sub": "arn:${AWS::Partition}:iam::1:role/${!x}-${Role.Arn}"}
    nested = {"Fn::Join": ["", ["a", {"Fn::Select": [0, ["b"]]}]]}
    assert join_to_sub(nested) is nested and join_to_sub("plain") == "plain"
    assert join_to_sub({"Fn::Join": [",", ["a", "b"]]}) == {"Fn::Join": [",", ["a", "b"]]}


def _verify_projects(template: Template) -> dict[str, dict]:
    projects = template.find_resources("AWS::CodeBuild::Project")
    return {logical_id: p["Properties"] for logical_id, p in projects.items() if "Verify" in logical_id}


def test_check_steps_run_outside_any_vpc_by_default(delivery):
    projects = _verify_projects(delivery)
    assert len(projects) == 2 and all("VpcConfig" not in p for p in projects.values())


def test_check_steps_run_in_the_delivery_accounts_private_subnets_when_configured(cdk_context, tmp_path):
    context = copy.deepcopy(cdk_context)
    context["mlops"]["delivery"]["network"] = {
        "mode": "existing",
        "vpc_id": "vpc-0fedcba9876543210",
        "availability_zones": ["us-east-1a", "us-east-1b"],
        "subnet_ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        "route_table_ids": ["rtb-0ccccccccccccccc3"],
    }
    app = cdk.App(context=context, outdir=str(tmp_path))
    build_app(app)
    template = Template.from_stack(app.node.find_child(DELIVERY_STACK_ID))
    projects = _verify_projects(template)
    assert len(projects) == 2
    for project in projects.values():
        vpc = project["VpcConfig"]
        assert vpc["VpcId"] == "vpc-0fedcba9876543210"
        assert vpc["Subnets"] == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
    (group,) = template.find_resources("AWS::EC2::SecurityGroup").values()
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS: PyPI and AWS APIs",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group["Properties"]
    synth = [p for logical_id, p in template.find_resources("AWS::CodeBuild::Project").items() if "Synth" in logical_id]
    assert synth and all("VpcConfig" not in p["Properties"] for p in synth)


def test_a_created_delivery_network_is_refused_naming_the_key(cdk_context):
    from infra.config import ConfigError, load_delivery_config

    context = copy.deepcopy(cdk_context)
    context["mlops"]["delivery"]["network"] = {"mode": "create"}
    with pytest.raises(
        ConfigError, match=re.escape("context.mlops.delivery.network.mode: expected one of none, existing")
    ):
        load_delivery_config(context["mlops"])
