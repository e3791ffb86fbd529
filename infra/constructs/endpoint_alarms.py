"""Alarms on the endpoint's own metrics; the first two also drive blue/green auto-rollback."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

NAMESPACE = "AWS/SageMaker"


class EndpointAlarms(Construct):
    """Server errors, p99 model latency (rollback alarms) and model invocation errors.

    Alarm names are fixed (``<endpoint>-<what>``) because the endpoint's
    AutoRollbackConfiguration refers to alarms by name. SageMaker watches them during the
    baking period of each traffic shift; all three notify ``topic`` at any time.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant: str,
        latency_p99_ms: int,
        topic: sns.ITopic,
        alarm_prefix: str | None = None,
    ) -> None:
        """``alarm_prefix``: of the alarm names (default: the endpoint name; a challenger
        variant's alarms use their own, and never drive the champion's rollbacks)."""
        if latency_p99_ms < 1:
            raise ValueError(f"latency_p99_ms: at least 1 ms (0 rolls back every rollout), got {latency_p99_ms}")
        super().__init__(scope, construct_id)
        dimensions = {"EndpointName": endpoint_name, "VariantName": variant}
        minute = cdk.Duration.minutes(1)

        def metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE, metric_name=name, dimensions_map=dimensions, statistic=statistic, period=minute
            )

        def alarm(suffix: str, description: str, metric_: cloudwatch.Metric, threshold: float) -> cloudwatch.Alarm:
            created = cloudwatch.Alarm(
                self,
                suffix.title().replace("-", ""),
                alarm_name=f"{alarm_prefix or endpoint_name}-{suffix}",
                alarm_description=description,
                metric=metric_,
                threshold=threshold,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                # No traffic is no evidence of a bad model: it must not block or roll back a rollout.
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(actions.SnsAction(topic))
            created.add_ok_action(actions.SnsAction(topic))
            return created

        self.server_errors = alarm(
            "5xx-errors", "Requests the endpoint answered with 5xx: roll back", metric("Invocation5XXErrors", "Sum"), 0
        )
        # ModelLatency is reported in microseconds.
        self.latency = alarm(
            "model-latency-p99",
            f"p99 model latency above {latency_p99_ms} ms: roll back",
            metric("ModelLatency", "p99"),
            latency_p99_ms * 1000,
        )
        self.model_errors = alarm(
            "model-errors",
            "Invocations the model container failed (not 2xx)",
            metric("InvocationModelErrors", "Sum"),
            0,
        )
        self.rollback_alarm_names = [self.server_errors.alarm_name, self.latency.alarm_name]
