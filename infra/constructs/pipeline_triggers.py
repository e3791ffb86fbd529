"""What starts the training pipeline, and what it announces.

- A dataset dropped into the raw bucket (files, then a ``_SUCCESS`` marker) starts one
  execution with that folder as InputDataUri (lambdas/start_pipeline).
- A schedule from config (off in dev) starts a retraining on the default input.
- Failed executions notify the failures topic.
- Model package state changes (new version, approved, rejected) go to the model-events
  topic, for people and tools to subscribe to (approval-driven deployment listens to
  EventBridge directly: lambdas/deploy_model).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.constructs.ops_key import ops_key
from infra.constructs.private_network import FunctionPlacement
from infra.constructs.python_lambda import PythonLambda
from infra.pipeline.parameters import INPUT_DATA_URI

PIPELINE_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
MODEL_PACKAGE_STATE_CHANGE = "SageMaker Model Package State Change"


class PipelineTriggers(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        pipeline_arn: str,
        raw_bucket: s3.IBucket,
        model_package_group_name: str,
        schedule: str | None,
        removal_policy: cdk.RemovalPolicy,
        placement: FunctionPlacement | None = None,
    ) -> None:
        """``removal_policy``: of the start function's log group and the key (the environment's)."""
        super().__init__(scope, construct_id)
        # Notifications, logs and dead letters of this stack, apart from the data lake key.
        self.key = ops_key(
            self, "Key", description=f"{pipeline_name} notifications and logs", removal_policy=removal_policy
        )
        self.failures = sns.Topic(
            self, "Failures", master_key=self.key, enforce_ssl=True, display_name=f"{pipeline_name} failures"
        )
        self.model_events = sns.Topic(
            self,
            "ModelEvents",
            master_key=self.key,
            enforce_ssl=True,
            display_name=f"{pipeline_name} model package events",
        )

        self.starter = PythonLambda(
            self,
            "StartOnDrop",
            name="start_pipeline",
            key=self.key,
            environment={"PIPELINE_NAME": pipeline_name, "INPUT_DATA_PARAMETER": INPUT_DATA_URI},
            removal_policy=removal_policy,
            **(placement.props() if placement else {}),
        )
        self.starter.role.add_to_policy(
            iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])
        )
        self.drop_rule = events.Rule(
            self,
            "DatasetDropped",
            description="A _SUCCESS marker closes a dataset folder in the raw bucket",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [raw_bucket.bucket_name]}, "object": {"key": [{"suffix": "/_SUCCESS"}]}},
            ),
            targets=[
                targets.LambdaFunction(
                    self.starter.function, dead_letter_queue=self.starter.dead_letters, retry_attempts=4
                )
            ],
        )

        if schedule:
            role = iam.Role(self, "ScheduleRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
            role.add_to_policy(
                iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])
            )
            # No L2 target for SageMaker pipelines: the L1 rule with SageMakerPipelineParameters.
            self.schedule_rule = events.CfnRule(
                self,
                "Retrain",
                description="Scheduled retraining on the default input",
                schedule_expression=schedule,
                targets=[
                    events.CfnRule.TargetProperty(
                        id="pipeline",
                        arn=pipeline_arn,
                        role_arn=role.role_arn,
                        sage_maker_pipeline_parameters=events.CfnRule.SageMakerPipelineParametersProperty(
                            pipeline_parameter_list=[]
                        ),
                    )
                ],
            )

        events.Rule(
            self,
            "ExecutionFailed",
            description="Training pipeline executions that failed (including the accuracy gate)",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[PIPELINE_STATUS_CHANGE],
                detail={"pipelineArn": [pipeline_arn], "currentPipelineExecutionStatus": ["Failed"]},
            ),
            targets=[targets.SnsTopic(self.failures)],
        )
        self.model_package_pattern = events.EventPattern(
            source=["aws.sagemaker"],
            detail_type=[MODEL_PACKAGE_STATE_CHANGE],
            detail={"ModelPackageGroupName": [model_package_group_name]},
        )
        events.Rule(
            self,
            "ModelPackageChanged",
            description="New, approved or rejected versions in this environment's model registry",
            event_pattern=self.model_package_pattern,
            targets=[targets.SnsTopic(self.model_events)],
        )
