"""PipelineTriggers on its own.

Props (all required): ``pipeline_name``, ``pipeline_arn``, ``raw_bucket``,
``model_package_group_name``, ``schedule`` (EventBridge cron/rate, or None: no scheduled
retraining), ``removal_policy`` (its key and the start function's log group). Secure
defaults: its own rotating key for both topics (TLS-only), only StartPipelineExecution on
the one pipeline.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.pipeline_triggers import MODEL_PACKAGE_STATE_CHANGE, PIPELINE_STATUS_CHANGE, PipelineTriggers
from infra.pipeline.parameters import INPUT_DATA_URI
from tests.infra.constructs.conftest import ACCOUNT, REGION, assert_least_privilege, bucket, new_stack, resources_for

PIPELINE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/demo-test-training"


def build(stack, schedule=None) -> PipelineTriggers:
    return PipelineTriggers(
        stack,
        "Triggers",
        pipeline_name="demo-test-training",
        pipeline_arn=PIPELINE_ARN,
        raw_bucket=bucket(stack),
        model_package_group_name="demo-test-sentiment",
        schedule=schedule,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("triggers"))
    build(stack)
    return Template.from_stack(stack)


def test_a_success_marker_in_the_raw_bucket_starts_the_function(template):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [{"Ref": Match.any_value()}]},
                    "object": {"key": [{"suffix": "/_SUCCESS"}]},
                },
            },
            "Targets": [
                Match.object_like({"RetryPolicy": {"MaximumRetryAttempts": 4}, "DeadLetterConfig": Match.any_value()})
            ],
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": {"PIPELINE_NAME": "demo-test-training", "INPUT_DATA_PARAMETER": INPUT_DATA_URI}}},
    )


def test_failures_and_package_changes_reach_their_topics(template):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": [PIPELINE_STATUS_CHANGE],
                "detail": {"pipelineArn": [PIPELINE_ARN], "currentPipelineExecutionStatus": ["Failed"]},
            }
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": [MODEL_PACKAGE_STATE_CHANGE],
                "detail": {"ModelPackageGroupName": ["demo-test-sentiment"]},
            }
        },
    )


def test_topics_are_encrypted_and_tls_only(template):
    topics = template.find_resources(
        "AWS::SNS::Topic", {"Properties": {"KmsMasterKeyId": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}}
    )
    assert len(topics) == len(template.find_resources("AWS::SNS::Topic")) == 2
    for policy in template.find_resources("AWS::SNS::TopicPolicy").values():
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_only_the_one_pipeline_may_be_started(template):
    assert_least_privilege(template)
    assert resources_for(template, "sagemaker:StartPipelineExecution") == [PIPELINE_ARN]


def test_no_schedule_no_retrain_rule(template):
    assert not template.find_resources("AWS::Events::Rule", {"Properties": {"ScheduleExpression": Match.any_value()}})


def test_a_schedule_starts_the_pipeline_directly(stack):
    build(stack, schedule="rate(7 days)")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(7 days)",
            "Targets": [
                Match.object_like({"Arn": PIPELINE_ARN, "SageMakerPipelineParameters": {"PipelineParameterList": []}})
            ],
        },
    )
    assert resources_for(template, "sagemaker:StartPipelineExecution") == [PIPELINE_ARN, PIPELINE_ARN]
