"""PythonLambda on its own.

Props (all required): ``name`` (a folder of lambdas/ with a handler.py; anything else
raises), ``key`` (its log group and dead-letter queue), ``environment``, ``removal_policy``
(of the log group). Secure defaults: its own role writing only its own encrypted log group
(no AWSLambdaBasicExecutionRole), a KMS-encrypted TLS-only DLQ, reserved concurrency,
three months of log retention.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.python_lambda import PythonLambda
from tests.infra.constructs.conftest import actions_of, assert_least_privilege, lake_key, new_stack, role_with_principal


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
