"""Alarms on Model Monitor's drift metrics; in ALARM they notify and start a retraining."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"


class DriftAlarms(Construct):
    """One alarm per monitored feature, one composite alarm over them.

    The composite alarm notifies ``topic``; when ``retrain_pipeline_arn`` is given, an
    EventBridge rule on its state change to ALARM starts that pipeline on its default input.
    The monitor publishes once per run (hourly), hence one datapoint per 1-hour period.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        schedule_name: str,
        features: tuple[str, ...],
        threshold: float,
        topic: sns.ITopic,
        retrain_pipeline_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        dimensions = {"Endpoint": endpoint_name, "MonitoringSchedule": schedule_name}
        alarms = [
            cloudwatch.Alarm(
                self, f"Drift{index}", alarm_name=f"{endpoint_name}-drift-{feature}",
                alarm_description=f"Captured {feature} drifted from the training baseline (distance > {threshold})",
                metric=cloudwatch.Metric(namespace=DATA_METRICS, metric_name=f"feature_baseline_drift_{feature}",
                                         dimensions_map=dimensions, statistic="Maximum", period=cdk.Duration.hours(1)),
                threshold=threshold, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for index, feature in enumerate(features)
        ]  # fmt: skip
        self.composite = cloudwatch.CompositeAlarm(
            self, "AnyDrift", composite_alarm_name=f"{endpoint_name}-data-drift",
            alarm_description="Model Monitor found the served data drifting from the training baseline",
            alarm_rule=cloudwatch.AlarmRule.any_of(*alarms),
        )  # fmt: skip
        self.composite.add_alarm_action(actions.SnsAction(topic))
        if retrain_pipeline_arn is None:
            return
        role = iam.Role(self, "RetrainRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[retrain_pipeline_arn]))
        # No L2 target for SageMaker pipelines: the L1 rule with SageMakerPipelineParameters.
        self.retrain_rule = events.CfnRule(
            self, "RetrainOnDrift", description="Data drift alarm -> retrain on the default input",
            event_pattern={
                "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [self.composite.alarm_arn], "detail": {"state": {"value": ["ALARM"]}},
            },
            targets=[events.CfnRule.TargetProperty(
                id="pipeline", arn=retrain_pipeline_arn, role_arn=role.role_arn,
                sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(pipeline_parameter_list=[]),
            )],
        )  # fmt: skip
