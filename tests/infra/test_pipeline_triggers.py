"""EventBridge triggers of the training pipeline and its notifications."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from infra.constructs.pipeline_triggers import MODEL_PACKAGE_STATE_CHANGE, PIPELINE_STATUS_CHANGE


def _rules(template) -> list[dict]:
    return [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]


def test_raw_bucket_sends_events_to_eventbridge(templates, stages):
    data = stages["dev"].data
    raw_id = data.get_logical_id(data.lake.raw.node.default_child)
    raw = templates["dev", "data"].find_resources("AWS::S3::Bucket")[raw_id]
    assert raw["Properties"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_dataset_marker_rule_invokes_the_start_function_with_retries_and_a_dead_letter_queue(templates):
    pipeline = templates["dev", "pipeline"]
    (drop,) = [r for r in _rules(pipeline) if r.get("EventPattern", {}).get("source") == ["aws.s3"]]
    assert drop["EventPattern"]["detail-type"] == ["Object Created"]
    assert drop["EventPattern"]["detail"]["object"] == {"key": [{"suffix": "/_SUCCESS"}]}
    assert "Fn::ImportValue" in str(drop["EventPattern"]["detail"]["bucket"]["name"])  # the raw bucket
    (target,) = drop["Targets"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4}
    assert "DeadLetterConfig" in target
    pipeline.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Handler": "handler.handler",
            "Environment": {
                "Variables": {"PIPELINE_NAME": "roberta-sentiment-dev-training", "INPUT_DATA_PARAMETER": "InputDataUri"}
            },
            "DeadLetterConfig": Match.any_value(),
            "ReservedConcurrentExecutions": 5,
        },
    )


def test_start_function_may_only_start_this_pipeline(templates):
    statements = Capture()
    templates["dev", "pipeline"].has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyName": Match.string_like_regexp("StartOnDropRole"), "PolicyDocument": {"Statement": statements}},
    )
    start = [s for s in statements.as_array() if s["Action"] == "sagemaker:StartPipelineExecution"]
    assert len(start) == 1 and "pipeline/roberta-sentiment-dev-training" in str(start[0]["Resource"])


@pytest.mark.parametrize(("env", "scheduled"), [("dev", False), ("staging", True), ("prod", True)])
def test_retraining_schedule_follows_config(templates, env, scheduled):
    rules = [r for r in _rules(templates[env, "pipeline"]) if "ScheduleExpression" in r]
    assert bool(rules) is scheduled
    if scheduled:
        (rule,) = rules
        assert rule["ScheduleExpression"] == "cron(0 4 ? * SUN *)"
        (target,) = rule["Targets"]
        assert "pipeline/roberta-sentiment-" in str(target["Arn"]) and "SageMakerPipelineParameters" in target


def test_failed_executions_and_model_package_changes_go_to_encrypted_topics(templates):
    pipeline = templates["dev", "pipeline"]
    patterns = {
        r["EventPattern"]["detail-type"][0]: r
        for r in _rules(pipeline)
        if r["EventPattern"]["source"] == ["aws.sagemaker"]
    }
    failed = patterns[PIPELINE_STATUS_CHANGE]["EventPattern"]["detail"]
    assert failed["currentPipelineExecutionStatus"] == ["Failed"]
    changed = patterns[MODEL_PACKAGE_STATE_CHANGE]["EventPattern"]["detail"]
    assert changed == {"ModelPackageGroupName": ["roberta-sentiment-dev-sentiment"]}
    topics = pipeline.find_resources("AWS::SNS::Topic")
    assert len(topics) == 2 and all("KmsMasterKeyId" in t["Properties"] for t in topics.values())
    for rule in patterns.values():
        assert rule["Targets"][0]["Arn"]["Ref"] in topics


def test_start_function_bundle_vendors_powertools(synthesized):
    _, assembly = synthesized
    bundles = [p for p in assembly.glob("asset.*") if (p / "handler.py").exists()]
    starters = [bundle for bundle in bundles if (bundle / "drop.py").exists()]
    assert starters, "the start function's asset was not staged"
    for bundle in bundles:  # every function's bundle: the starter's and the deployer's
        assert (bundle / "aws_lambda_powertools" / "__init__.py").exists()
        assert (bundle / "typing_extensions.py").exists()
        assert not list(bundle.rglob("__pycache__"))
