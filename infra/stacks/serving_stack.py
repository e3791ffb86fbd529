"""Stateless serving of one environment: the endpoint, its rollout, scaling and monitoring.

The endpoint exists once a model package is known (cdk.json or the delivery pipeline's
``-c mlops.model_package_arn.<env>``). Where ``deploy_on_approval`` is on (dev), approving
a package in the registry updates the endpoint at once through lambdas/deploy_model.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import EnvironmentConfig
from infra.constructs.approval_deployer import ApprovalDeployer
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.capture_job import ScheduledCaptureJob
from infra.constructs.challenger_comparison import challenger_comparison_spec
from infra.constructs.data_quality_monitor import DataQualityMonitor, MonitorInputs
from infra.constructs.delivery_checks_role import DeliveryChecksRole
from infra.constructs.drift_alarms import DriftAlarms, evidently_drift_metric, model_monitor_drift_metric
from infra.constructs.drift_monitor import drift_monitor_spec
from infra.constructs.endpoint_alarms import EndpointAlarms
from infra.constructs.endpoint_autoscaling import EndpointAutoscaling
from infra.constructs.model_quality_monitor import ModelQualityMonitor
from infra.constructs.model_role import ModelExecutionRole
from infra.constructs.monitor_role import MonitorRole
from infra.constructs.ops_key import ops_key
from infra.constructs.package_baseline import PackageBaseline
from infra.constructs.private_network import FunctionPlacement
from infra.constructs.sentiment_endpoint import VARIANT, SentimentEndpoint
from infra.pipeline.compare_definition import CHALLENGER_VARIANT
from infra.pipeline.images import analyzer_image_uri, image_uris_for, repository_of
from infra.pipeline.monitor_definition import metrics_namespace
from infra.pipeline.network import JobNetwork
from infra.removal import removal_policy
from infra.s3_arns import objects_arn
from infra.stacks.data_stack import DataStack
from infra.stacks.pipeline_stack import PipelineStack
from ml_code.monitoring import record_preprocessor

CAPTURE_PREFIX = "datacapture"
# Every feature is monitored and reported; alarms watch these. The class probabilities move
# with confidence and the predicted label, and would only repeat their alarms.
DRIFT_ALARM_FEATURES = tuple(f for f in record_preprocessor.FEATURES if not f.startswith("prob_"))
# Evidently also judges the review text itself (a domain classifier on the words).
MONITORED_FEATURES = (*DRIFT_ALARM_FEATURES, "review_text")
REPORTS_PREFIX = "monitoring-reports"
COMPARISONS_PREFIX = "challenger-comparisons"


class ServingStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        data: DataStack,
        pipeline: PipelineStack,
        artifacts: ArtifactSource,
        source: EnvironmentConfig,
        delivery_account: str,
        network: JobNetwork | None = None,
        functions: FunctionPlacement | None = None,
        **kwargs,
    ) -> None:
        """``artifacts``: where the served packages' model.tar.gz and baselines live (dev's
        models bucket: every environment serves packages dev's pipeline registered);
        ``source``: that environment; ``delivery_account``: where the delivery pipeline runs."""
        super().__init__(scope, construct_id, **kwargs)
        self.network = network
        serving = config.serving
        self.key = ops_key(
            self,
            "Key",
            description=f"{config.prefix} serving alerts",
            publishers=("events", "cloudwatch"),
            removal_policy=removal_policy(config),
        )
        self.alerts = sns.Topic(
            self, "Alerts", master_key=self.key, enforce_ssl=True, display_name=f"{config.endpoint_name} alerts"
        )
        self.checks_role = DeliveryChecksRole(
            self, "DeliveryChecks", config=config, delivery_account=delivery_account, source=source
        ).role
        self.endpoint: SentimentEndpoint | None = None
        if serving.model_package_arn:
            self._endpoint(config, data, pipeline, artifacts, source)
        if serving.deploy_on_approval:
            self.deployer = ApprovalDeployer(
                self,
                "DeployOnApproval",
                config=config,
                key=self.key,
                topic=self.alerts,
                model_role_arn=self.model_role.role_arn if self.endpoint else None,
                lake_key_arn=data.lake.key.key_arn,
                placement=functions,
            )

    def _endpoint(self, config, data, pipeline, artifacts, source) -> None:
        serving, lake, name = config.serving, data.lake, config.endpoint_name
        monitoring_arn = data.exported_bucket_arn("monitoring")
        images = image_uris_for(config.region)
        self.model_role = ModelExecutionRole(
            self,
            "ModelRole",
            endpoint_name=name,
            artifacts=artifacts,
            capture_prefix_arn=f"{monitoring_arn}/{CAPTURE_PREFIX}/*",
            key_arn=lake.key.key_arn,
            ecr_repositories=frozenset([repository_of(images.inference)]),
        ).role
        alarms = EndpointAlarms(
            self,
            "Alarms",
            endpoint_name=name,
            variant=VARIANT,
            latency_p99_ms=serving.model_latency_p99_ms,
            topic=self.alerts,
        )
        self.endpoint = endpoint = SentimentEndpoint(
            self,
            "Endpoint",
            endpoint_name=name,
            config=serving,
            role_arn=self.model_role.role_arn,
            capture_uri=f"s3://{lake.monitoring.bucket_name}/{CAPTURE_PREFIX}",
            key_arn=lake.key.key_arn,
            rollback_alarm_names=alarms.rollback_alarm_names,
            network=self.network,
        )
        # The role's policy must exist before SageMaker validates the model with it.
        endpoint.model.node.add_dependency(self.model_role.node.find_child("DefaultPolicy"))
        scaling = EndpointAutoscaling(
            self, "Autoscaling", endpoint_name=name, variant=VARIANT, config=serving.autoscaling
        )
        scaling.target.node.add_dependency(endpoint.endpoint)
        if endpoint.challenger_model is not None:
            self._challenger(config, data, monitoring_arn, artifacts, endpoint)
        # Promotion reads what each environment serves here. In dev the deploy function
        # overwrites it after each verified approval-driven update; the next synth of the
        # delivery pipeline reads that value back, so both writers agree.
        ssm.StringParameter(
            self,
            "ServedModel",
            parameter_name=config.served_model_parameter,
            string_value=serving.model_package_arn,
            description=f"Model package the {name} endpoint serves",
        )
        self._monitoring(config, data, pipeline, monitoring_arn, artifacts, source, endpoint)

    def _challenger(self, config, data, monitoring_arn, artifacts, endpoint: SentimentEndpoint) -> None:
        """A challenger on the endpoint: its own alarms (never the champion's rollback alarms:
        a failing challenger must not roll back or page for the champion) and the scheduled
        comparison job."""
        assert endpoint.challenger_model is not None
        name, serving, lake = config.endpoint_name, config.serving, data.lake
        endpoint.challenger_model.node.add_dependency(self.model_role.node.find_child("DefaultPolicy"))
        self.challenger_alarms = EndpointAlarms(
            self,
            "ChallengerAlarms",
            endpoint_name=name,
            variant=CHALLENGER_VARIANT,
            latency_p99_ms=serving.model_latency_p99_ms,
            topic=self.alerts,
            alarm_prefix=f"{name}-challenger",
        )
        self.comparison = ScheduledCaptureJob(
            self,
            "Compare",
            spec=challenger_comparison_spec(config),
            config=config,
            capture_prefix=f"{CAPTURE_PREFIX}/{name}",
            reports_prefix=f"{COMPARISONS_PREFIX}/{name}",
            monitoring_bucket_name=lake.monitoring.bucket_name,
            monitoring_bucket_arn=monitoring_arn,
            key_arn=lake.key.key_arn,
            artifacts=artifacts,
            network=self.network,
            tracking_uri=data.tracking_uri,
        )
        if data.tracking is not None:  # the comparison job logs each verdict as a run
            data.tracking.grant_logging(self.comparison.role)

    def _monitoring(
        self, config, data, pipeline, monitoring_arn, artifacts, source, endpoint: SentimentEndpoint
    ) -> None:
        """The default engine runs our Evidently job; Model Monitor only where an account opts in."""
        name, monitoring = config.endpoint_name, config.monitoring
        retrain = pipeline.training.pipeline_arn if monitoring.retrain_on_drift else None
        if monitoring.engine == "model_monitor":
            schedule_name = self._model_monitor(config, data, monitoring_arn, artifacts, endpoint)
            self.drift = DriftAlarms(
                self,
                "Drift",
                endpoint_name=name,
                threshold=monitoring.drift_threshold,
                what="baseline distance",
                feature_metrics={f: model_monitor_drift_metric(name, schedule_name, f) for f in DRIFT_ALARM_FEATURES},
                topic=self.alerts,
                retrain_pipeline_arn=retrain,
            )
            return
        lake = data.lake
        group_arn = self.format_arn(
            service="sagemaker",
            account=source.account,
            region=source.region,
            resource="model-package-group",
            resource_name=source.model_package_group_name,
        )
        self.monitor = ScheduledCaptureJob(
            self,
            "Monitor",
            spec=drift_monitor_spec(config, [group_arn]),
            config=config,
            capture_prefix=f"{CAPTURE_PREFIX}/{name}",
            reports_prefix=f"{REPORTS_PREFIX}/{name}",
            monitoring_bucket_name=lake.monitoring.bucket_name,
            monitoring_bucket_arn=monitoring_arn,
            key_arn=lake.key.key_arn,
            artifacts=artifacts,
            network=self.network,
            tracking_uri=data.tracking_uri,
        )
        if data.tracking is not None:  # the drift job logs each run's report and metrics
            data.tracking.grant_logging(self.monitor.role)
        namespace = metrics_namespace(config)
        # One datapoint per run; CloudWatch alarm periods stop at a day.
        period = cdk.Duration.hours(min(monitoring.window_hours, 24))
        quality = (
            [
                cloudwatch.Alarm(
                    self,
                    "AccuracyDrop",
                    alarm_name=f"{name}-accuracy-drop",
                    alarm_description="Live accuracy (delayed ground truth) is more than"
                    f" {monitoring.accuracy_alarm_margin}"
                    " under the served package's evaluation accuracy",
                    metric=cloudwatch.Metric(
                        namespace=namespace,
                        metric_name="AccuracyDrop",
                        statistic="Maximum",
                        dimensions_map={"Endpoint": name},
                        period=period,
                    ),
                    threshold=monitoring.accuracy_alarm_margin,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
            ]
            if monitoring.ground_truth_s3_uri
            else []
        )
        self.drift = DriftAlarms(
            self,
            "Drift",
            endpoint_name=name,
            threshold=0.5,
            what="Evidently's drift verdict, 0 or 1",
            feature_metrics={f: evidently_drift_metric(namespace, name, f, period) for f in MONITORED_FEATURES},
            topic=self.alerts,
            retrain_pipeline_arn=retrain,
            extra_alarms=quality,
        )

    def _model_monitor(self, config, data, monitoring_arn, artifacts, endpoint: SentimentEndpoint) -> str:
        """SageMaker Model Monitor (opt-in): the package's baseline, hourly job(s); returns the schedule name."""
        name, lake, monitoring = config.endpoint_name, data.lake, config.monitoring
        schedule_name = f"{name}-data-quality"
        baseline = PackageBaseline(
            self,
            "Baseline",
            model_package_arn=config.serving.model_package_arn,
            key=self.key,
            removal_policy=removal_policy(config),
        )
        preprocessor = s3_assets.Asset(self, "RecordPreprocessor", path=record_preprocessor.__file__)
        analyzer = analyzer_image_uri(config.region)
        role = MonitorRole(
            self,
            "MonitorRole",
            schedule_name=schedule_name,
            read_prefix_arns=[
                f"{monitoring_arn}/{CAPTURE_PREFIX}/{name}/*",
                preprocessor.bucket.arn_for_objects(preprocessor.s3_object_key),
                *([objects_arn(monitoring.ground_truth_s3_uri)] if monitoring.ground_truth_s3_uri else []),
            ],
            write_prefix_arn=f"{monitoring_arn}/{REPORTS_PREFIX}/{name}/*",
            artifacts=artifacts,
            bucket_arns=[monitoring_arn],
            key_arn=lake.key.key_arn,
            analyzer_repository=repository_of(analyzer),
        ).role
        inputs = MonitorInputs(
            endpoint_name=name,
            schedule_name=schedule_name,
            schedule=monitoring.schedule,
            instance_type=monitoring.instance_type,
            role_arn=role.role_arn,
            analyzer_image=analyzer,
            record_preprocessor_uri=preprocessor.s3_object_url,
            statistics_uri=baseline.statistics_uri,
            constraints_uri=baseline.constraints_uri,
            reports_uri=f"s3://{lake.monitoring.bucket_name}/{REPORTS_PREFIX}/{name}",
            key_arn=lake.key.key_arn,
        )
        self.monitors: list[DataQualityMonitor | ModelQualityMonitor] = [
            DataQualityMonitor(self, "DataQuality", inputs=inputs)
        ]
        if monitoring.ground_truth_s3_uri:
            self.monitors.append(
                ModelQualityMonitor(
                    self,
                    "ModelQuality",
                    inputs=inputs,
                    ground_truth_uri=monitoring.ground_truth_s3_uri,
                    label_attribute="predicted_label",
                )
            )
        for monitor in self.monitors:
            monitor.job_definition.node.add_dependency(role.node.find_child("DefaultPolicy"))
            monitor.schedule.node.add_dependency(endpoint.endpoint)
        return schedule_name
