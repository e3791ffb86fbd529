"""ops_key on its own.

Props: ``description``, ``removal_policy`` (required); ``publishers`` (AWS services that
may encrypt SNS messages with it; default ``("events",)``; empty fails synthesis). Secure defaults:
rotation on; CloudWatch Logs of this region may use it for this account's log groups only.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.ops_key import ops_key


def statement_for(template: Template, principal: dict) -> dict:
    [key] = template.find_resources("AWS::KMS::Key").values()
    found = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == principal]
    assert len(found) == 1
    return found[0]


def test_rotating_key_with_default_publisher_events(stack):
    ops_key(stack, "Key", description="ops", removal_policy=cdk.RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)
    template.has_resource(
        "AWS::KMS::Key",
        {
            "DeletionPolicy": "Delete",
            "Properties": Match.object_like({"EnableKeyRotation": True, "Description": "ops"}),
        },
    )
    events = statement_for(template, {"Service": "events.amazonaws.com"})
    assert events["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]


def test_every_publisher_is_named(stack):
    ops_key(
        stack, "Key", description="ops", removal_policy=cdk.RemovalPolicy.RETAIN, publishers=("events", "cloudwatch")
    )
    template = Template.from_stack(stack)
    statement = statement_for(template, {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]})
    assert "kms:Encrypt" not in statement["Action"]
    template.has_resource("AWS::KMS::Key", {"DeletionPolicy": "Retain"})


def test_logs_may_use_it_for_this_accounts_log_groups_only(stack):
    ops_key(stack, "Key", description="ops", removal_policy=cdk.RemovalPolicy.RETAIN)
    logs = statement_for(Template.from_stack(stack), {"Service": "logs.us-east-1.amazonaws.com"})
    arn = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn["Fn::Join"][1][-1] == ":logs:us-east-1:123456789012:log-group:*"


def test_no_publisher_fails_synthesis(stack):
    ops_key(stack, "Key", description="ops", removal_policy=cdk.RemovalPolicy.RETAIN, publishers=())
    with pytest.raises(RuntimeError, match="at least one IAM principal"):
        Template.from_stack(stack)
