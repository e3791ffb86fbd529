"""DriftAlarms on its own.

Props: ``endpoint_name``, ``feature_metrics`` (feature -> metric), ``threshold``, ``what``,
``topic``, ``retrain_pipeline_arn`` (None: notify only) required; ``extra_alarms``
(default none) join the composite. No feature and no extra alarm fails synthesis.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from infra.constructs.drift_alarms import DATA_METRICS, DriftAlarms, evidently_drift_metric, model_monitor_drift_metric
from tests.infra.constructs.conftest import assert_least_privilege, resources_for

PIPELINE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/demo-test-training"


def build(stack, features=("confidence", "text_length"), retrain=None, extra=()):
    metrics = {
        f: evidently_drift_metric("demo/Monitoring", "demo-test-sentiment", f, cdk.Duration.hours(2)) for f in features
    }
    DriftAlarms(
        stack,
        "Drift",
        endpoint_name="demo-test-sentiment",
        feature_metrics=metrics,
        threshold=0.5,
        what="verdict",
        topic=sns.Topic(stack, "Topic"),
        retrain_pipeline_arn=retrain,
        extra_alarms=extra,
    )
    return Template.from_stack(stack)


def test_one_alarm_per_feature_on_its_metric(stack):
    template = build(stack)
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "demo-test-sentiment-drift-confidence",
            "Namespace": "demo/Monitoring",
            "MetricName": "FeatureDrifted",
            "Dimensions": [
                {"Name": "Endpoint", "Value": "demo-test-sentiment"},
                {"Name": "Feature", "Value": "confidence"},
            ],
            "Statistic": "Maximum",
            "Period": 7200,
            "Threshold": 0.5,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    )


def test_the_composite_notifies_and_nothing_retrains_without_a_pipeline(stack):
    template = build(stack)
    template.has_resource_properties(
        "AWS::CloudWatch::CompositeAlarm",
        {"AlarmName": "demo-test-sentiment-data-drift", "AlarmActions": [{"Ref": Match.any_value()}]},
    )
    template.resource_count_is("AWS::Events::Rule", 0)
    template.resource_count_is("AWS::IAM::Role", 0)


def test_extra_alarms_join_the_composite(stack):
    extra = cloudwatch.Alarm(
        stack, "Accuracy", metric=cloudwatch.Metric(namespace="n", metric_name="m"), threshold=1, evaluation_periods=1
    )
    template = build(stack, extra=[extra])
    [composite] = template.find_resources("AWS::CloudWatch::CompositeAlarm").values()
    assert str(composite["Properties"]["AlarmRule"]).count("ALARM(") == 3


def test_retraining_starts_only_the_given_pipeline_on_alarm(stack):
    template = build(stack, retrain=PIPELINE_ARN)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [{"Fn::GetAtt": [Match.any_value(), "Arn"]}],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            "Targets": [
                Match.object_like({"Arn": PIPELINE_ARN, "SageMakerPipelineParameters": {"PipelineParameterList": []}})
            ],
        },
    )
    assert_least_privilege(template)
    assert resources_for(template, "sagemaker:StartPipelineExecution") == [PIPELINE_ARN]


def test_no_alarm_at_all_fails(stack):
    with pytest.raises(RuntimeError, match="anyOf"):
        build(stack, features=())


def test_model_monitor_metric_names_the_schedule():
    metric = model_monitor_drift_metric("demo-test-sentiment", "demo-test-sentiment-data-quality", "confidence")
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        DATA_METRICS,
        "feature_baseline_drift_confidence",
        "Maximum",
    )
    assert metric.dimensions == {
        "Endpoint": "demo-test-sentiment",
        "MonitoringSchedule": "demo-test-sentiment-data-quality",
    }
