"""EndpointAlarms on its own.

Props (all required): ``endpoint_name``, ``variant``, ``latency_p99_ms`` (at least 1; less
raises), ``topic``. Three alarms with fixed names (rollback refers to them by name), two
of which are the rollback alarms; missing data never breaches; all notify the topic.
"""

from __future__ import annotations

import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from infra.constructs.endpoint_alarms import NAMESPACE, EndpointAlarms
from tests.infra.constructs.conftest import new_stack


def build(stack, latency=750):
    alarms = EndpointAlarms(
        stack,
        "Alarms",
        endpoint_name="demo-test-sentiment",
        variant="AllTraffic",
        latency_p99_ms=latency,
        topic=sns.Topic(stack, "Topic"),
    )
    return alarms, Template.from_stack(stack)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(new_stack(tmp_path_factory.mktemp("alarms")))


def test_rollback_alarms_are_5xx_and_latency_by_fixed_name(built):
    alarms, template = built
    stack, resources = alarms.server_errors.stack, template.to_json()["Resources"]
    # An alarm's Ref is its name.
    refs = [stack.resolve(name)["Ref"] for name in alarms.rollback_alarm_names]
    assert [resources[ref]["Properties"]["AlarmName"] for ref in refs] == [
        "demo-test-sentiment-5xx-errors",
        "demo-test-sentiment-model-latency-p99",
    ]


@pytest.mark.parametrize(
    ("name", "metric", "statistic", "threshold"),
    [
        ("5xx-errors", "Invocation5XXErrors", "Sum", 0),
        ("model-latency-p99", "ModelLatency", None, 750_000),  # microseconds
        ("model-errors", "InvocationModelErrors", "Sum", 0),
    ],
)
def test_alarm_watches_the_variant(built, name, metric, statistic, threshold):
    _, template = built
    expected = {
        "AlarmName": f"demo-test-sentiment-{name}",
        "Namespace": NAMESPACE,
        "MetricName": metric,
        "Threshold": threshold,
        "Dimensions": [
            {"Name": "EndpointName", "Value": "demo-test-sentiment"},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        "Period": 60,
        "EvaluationPeriods": 2,
        "DatapointsToAlarm": 2,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": Match.any_value()}],
        "OKActions": [{"Ref": Match.any_value()}],
    }
    if statistic:
        expected["Statistic"] = statistic
    else:
        expected["ExtendedStatistic"] = "p99"
    template.has_resource_properties("AWS::CloudWatch::Alarm", expected)


@pytest.mark.parametrize("latency", [0, -5])
def test_a_latency_threshold_under_one_ms_raises(stack, latency):
    with pytest.raises(ValueError, match="latency_p99_ms"):
        build(stack, latency=latency)
