"""PythonLambda on its own.

Props: ``name`` (a folder of lambdas/ with a handler.py; anything else raises), ``key``
(its log group, dead-letter queue and environment variables), ``environment``,
``removal_policy`` (of the log group); optional ``vpc``, ``vpc_subnets``,
``security_groups`` (default: no VPC). Secure defaults: its own role writing only its own
encrypted log group (no AWSLambdaBasicExecutionRole), a KMS-encrypted TLS-only DLQ,
reserved concurrency, three months of log retention. What IaC scanners would still raise
is acknowledged in the template's metadata with the reason.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from infra.constructs.python_lambda import PythonLambda
from tests.infra.constructs.conftest import (
    actions_of,
    assert_least_privilege,
    lake_key,
    new_stack,
    resources_for,
    role_with_principal,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("lambda"))
    function = PythonLambda(
        stack,
        "Fn",
        name="start_pipeline",
        key=lake_key(stack),
        environment={"A": "1"},
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    return function, Template.from_stack(stack)


def test_function_runs_the_folders_handler_with_limits(built):
    _, template = built
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "handler.handler",
            "Runtime": Match.string_like_regexp("^python3\\."),
            "Timeout": 30,
            "MemorySize": 256,
            "ReservedConcurrentExecutions": 5,
            "Environment": {"Variables": {"A": "1"}},
            "DeadLetterConfig": {"TargetArn": Match.any_value()},
        },
    )
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2})


def test_the_asset_holds_the_handler_and_vendored_powertools(built):
    function, _ = built
    handlers = list(Path(cdk.Stack.of(function).node.root.outdir).glob("asset.*/handler.py"))
    assert handlers, "handler.py not in the staged asset"
    assert (handlers[0].parent / "aws_lambda_powertools" / "__init__.py").is_file()


def test_logs_and_dead_letters_are_encrypted_with_the_key(built):
    _, template = built
    key = {"Fn::GetAtt": [Match.any_value(), "Arn"]}
    template.has_resource(
        "AWS::Logs::LogGroup", {"DeletionPolicy": "Delete", "Properties": {"RetentionInDays": 90, "KmsKeyId": key}}
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"KmsMasterKeyId": key, "MessageRetentionPeriod": 14 * 24 * 3600}
    )
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_role_writes_its_own_log_group_only(built):
    _, template = built
    assert_least_privilege(template)
    role = role_with_principal(template, "lambda.amazonaws.com")
    [props] = [r["Properties"] for r in template.find_resources("AWS::IAM::Role").values()]
    assert "ManagedPolicyArns" not in props
    assert {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"} <= actions_of(template, role)
    assert "logs:CreateLogGroup" not in actions_of(template, role)


def test_an_unknown_function_folder_raises(stack):
    with pytest.raises(ValueError, match="lambdas/no_such_function/handler.py"):
        PythonLambda(
            stack,
            "Fn",
            name="no_such_function",
            key=lake_key(stack),
            environment={},
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )


def _function(template: Template) -> dict:
    [function] = template.find_resources("AWS::Lambda::Function").values()
    return function


def _skipped(metadata: dict, scanner: str, rule: str) -> str:
    """The reason ``scanner`` (checkov or cfn_nag) is told to skip ``rule``, or ""."""
    entries = metadata.get(scanner, {}).get("skip" if scanner == "checkov" else "rules_to_suppress", [])
    return next((e.get("comment") or e.get("reason") or "" for e in entries if e["id"] == rule), "")


def test_environment_variables_are_encrypted_with_the_key(built):
    _, template = built
    [key] = template.find_resources("AWS::KMS::Key")
    assert _function(template)["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": [key, "Arn"]}


def test_without_a_vpc_the_scanners_are_told_why_and_cfn_lint_metadata_stays(built):
    _, template = built
    function = _function(template)
    assert "VpcConfig" not in function["Properties"]
    metadata = function["Metadata"]
    assert "networking is off" in _skipped(metadata, "checkov", "CKV_AWS_117").lower()
    assert "networking is off" in _skipped(metadata, "cfn_nag", "W89").lower()
    assert "CreateLogGroup" in _skipped(metadata, "cfn_nag", "W58")
    assert metadata["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}}
    assert not any("ec2:" in action for action in actions_of(template))


@pytest.fixture(scope="module")
def in_vpc(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("lambda-vpc"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    group = ec2.SecurityGroup(stack, "FunctionSg", vpc=vpc, allow_all_outbound=False)
    PythonLambda(
        stack,
        "Fn",
        name="start_pipeline",
        key=lake_key(stack),
        environment={"A": "1"},
        removal_policy=cdk.RemovalPolicy.DESTROY,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        security_groups=[group],
    )
    return Template.from_stack(stack)


def test_with_a_vpc_the_function_runs_in_its_subnets_behind_the_group(in_vpc):
    function = _function(in_vpc)
    config = function["Properties"]["VpcConfig"]
    assert len(config["SubnetIds"]) == 2
    [group] = [logical for logical in in_vpc.find_resources("AWS::EC2::SecurityGroup") if "FunctionSg" in logical]
    assert config["SecurityGroupIds"] == [{"Fn::GetAtt": [group, "GroupId"]}]
    assert _skipped(function["Metadata"], "checkov", "CKV_AWS_117") == ""
    assert _skipped(function["Metadata"], "cfn_nag", "W89") == ""
    assert "KmsKeyArn" in function["Properties"]


def test_with_a_vpc_the_role_may_manage_enis_inline_not_by_managed_policy(in_vpc):
    assert_least_privilege(in_vpc)
    role = role_with_principal(in_vpc, "lambda.amazonaws.com")
    assert "ManagedPolicyArns" not in in_vpc.find_resources("AWS::IAM::Role")[role]["Properties"]
    assert {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"} <= (
        actions_of(in_vpc, role)
    )
    assert resources_for(in_vpc, "ec2:CreateNetworkInterface", role) == ["*"]
    # The ENI policy exists before the function: Lambda checks it when creating the function.
    [(eni_id, eni)] = [
        (logical, policy)
        for logical, policy in in_vpc.find_resources("AWS::IAM::Policy").items()
        if any("ec2:CreateNetworkInterface" in s["Action"] for s in policy["Properties"]["PolicyDocument"]["Statement"])
    ]
    assert eni_id in _function(in_vpc)["DependsOn"]
    assert "resource scope" in _skipped(eni["Metadata"], "checkov", "CKV_AWS_111")
    assert "resource scope" in _skipped(eni["Metadata"], "cfn_nag", "W12")


def test_subnets_or_groups_without_a_vpc_raise(stack):
    with pytest.raises(ValueError, match="need a vpc"):
        PythonLambda(
            stack,
            "Fn",
            name="start_pipeline",
            key=lake_key(stack),
            environment={},
            removal_policy=cdk.RemovalPolicy.RETAIN,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        )
