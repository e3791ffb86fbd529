"""Alarms on the monitoring job's drift metrics; in ALARM they notify and start a retraining."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"  # Model Monitor's (the opt-in engine)


def model_monitor_drift_metric(endpoint_name: str, schedule_name: str, feature: str) -> cloudwatch.Metric:
    """Model Monitor's per-feature baseline distance, published once per hourly run."""
    return cloudwatch.Metric(
        namespace=DATA_METRICS,
        metric_name=f"feature_baseline_drift_{feature}",
        statistic="Maximum",
        dimensions_map={"Endpoint": endpoint_name, "MonitoringSchedule": schedule_name},
        period=cdk.Duration.hours(1),
    )


def evidently_drift_metric(namespace: str, endpoint_name: str, feature: str, period: cdk.Duration) -> cloudwatch.Metric:
    """ml_code/monitor.py's per-feature verdict: 1 when Evidently found the feature drifted."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name="FeatureDrifted",
        statistic="Maximum",
        dimensions_map={"Endpoint": endpoint_name, "Feature": feature},
        period=period,
    )


class DriftAlarms(Construct):
    """One alarm per monitored feature (``feature_metrics``: feature -> metric, in ALARM above
    ``threshold``), plus ``extra_alarms``, under one composite alarm.

    The composite alarm notifies ``topic``; when ``retrain_pipeline_arn`` is given, an
    EventBridge rule on its state change to ALARM starts that pipeline on its default input.
    The monitor publishes once per run, hence one datapoint per metric period.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        feature_metrics: Mapping[str, cloudwatch.Metric],
        threshold: float,
        what: str,  # how the threshold reads in alarm descriptions
        topic: sns.ITopic,
        retrain_pipeline_arn: str | None,
        extra_alarms: Sequence[cloudwatch.IAlarm] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = [
            cloudwatch.Alarm(
                self,
                f"Drift{index}",
                alarm_name=f"{endpoint_name}-drift-{feature}",
                alarm_description=f"Captured {feature} drifted from the training reference ({what} > {threshold})",
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for index, (feature, metric) in enumerate(feature_metrics.items())
        ]
        self.alarms = alarms
        self.composite = cloudwatch.CompositeAlarm(
            self,
            "AnyDrift",
            composite_alarm_name=f"{endpoint_name}-data-drift",
            alarm_description=(
                "Monitoring found the served data drifting from the training reference, or the model's accuracy falling"
            ),
            alarm_rule=cloudwatch.AlarmRule.any_of(*alarms, *extra_alarms),
        )
        self.composite.add_alarm_action(actions.SnsAction(topic))
        if retrain_pipeline_arn is None:
            return
        role = iam.Role(self, "RetrainRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
        role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[retrain_pipeline_arn])
        )
        # No L2 target for SageMaker pipelines: the L1 rule with SageMakerPipelineParameters.
        self.retrain_rule = events.CfnRule(
            self,
            "RetrainOnDrift",
            description="Data drift alarm -> retrain on the default input",
            event_pattern={
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [self.composite.alarm_arn],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            targets=[
                events.CfnRule.TargetProperty(
                    id="pipeline",
                    arn=retrain_pipeline_arn,
                    role_arn=role.role_arn,
                    sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                        pipeline_parameter_list=[]
                    ),
                )
            ],
        )
