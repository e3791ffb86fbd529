"""The monitoring pipeline: one Processing step running ml_code/monitor.py (Evidently).

``<prefix>-monitor`` replaces Model Monitor's schedule (closed to new customers): a scheduled
EventBridge rule starts it (infra/constructs/drift_monitor.py), and its one step, DriftMonitor,
reads the endpoint's data capture for the window that ends when the execution started,
compares it with the served package's reference (resolved at run time from the SSM parameter
the serving stack and the deploy function keep up to date), joins delayed ground truth,
writes report.html/report.json/metrics.json under ReportsUri/<yyyy>/<mm>/<dd>/<hh>/ and
publishes the metrics to CloudWatch.

The job is not network-isolated: it resolves the served package (SSM, SageMaker), lists the
capture window in S3 itself (only that window's objects, streamed) and publishes metrics.
Its image (containers/monitor) carries every package it imports, so it downloads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline

from infra.config import EnvironmentConfig
from infra.pipeline.capture_job_step import CaptureJobTargets, capture_job_pipeline
from infra.pipeline.network import JobNetwork
from infra.pipeline.tracking import tracking_uri_parameter

MONITOR_STEP = "DriftMonitor"
SERVED = "served"  # ReferenceUri: the reference of whatever package the endpoint serves now
NONE = "none"
METRICS_NAMESPACE_SUFFIX = "Monitoring"


def metrics_namespace(config: EnvironmentConfig) -> str:
    """The project's own CloudWatch namespace for monitoring metrics (alarms read it too)."""
    return f"{config.project}/{METRICS_NAMESPACE_SUFFIX}"


def monitor_job_prefix(config: EnvironmentConfig) -> str:
    """Name prefix of the processing jobs executions create (the role is scoped to it)."""
    return f"{config.prefix}-monitor"


@dataclass(frozen=True)
class MonitorParameters:
    capture_uri: ParameterString
    reference_uri: ParameterString
    ground_truth_uri: ParameterString
    window_hours: ParameterInteger
    drift_threshold: ParameterFloat
    publish_metrics: ParameterString
    instance_type: ParameterString
    tracking_uri: ParameterString  # the MLflow App ARN, "none": not tracked

    def all(self) -> list:
        return list(vars(self).values())


def monitor_parameters(config: EnvironmentConfig, capture_uri: str, tracking_uri: str = "") -> MonitorParameters:
    monitoring = config.monitoring
    return MonitorParameters(
        capture_uri=ParameterString("CaptureUri", capture_uri),
        reference_uri=ParameterString("ReferenceUri", SERVED),
        ground_truth_uri=ParameterString("GroundTruthUri", monitoring.ground_truth_s3_uri or NONE),
        window_hours=ParameterInteger("WindowHours", monitoring.window_hours),
        drift_threshold=ParameterFloat("DriftThreshold", monitoring.drift_threshold),
        publish_metrics=ParameterString("PublishMetrics", "true", enum_values=["true", "false"]),
        instance_type=ParameterString("InstanceType", monitoring.instance_type),
        tracking_uri=tracking_uri_parameter(tracking_uri),
    )


def build_monitor_pipeline(
    config: EnvironmentConfig,
    *,
    role_arn: str,
    code_uri: str,
    image_uri: str,
    capture_uri: str,
    reports_uri: str,
    kms_key_arn: str,
    work_bucket: str,
    network: JobNetwork | None = None,
    tracking_uri: str = "",
    code_version: str = "",
) -> Pipeline:
    """``capture_uri``: the endpoint's capture prefix (s3://.../datacapture/<endpoint>);
    ``reports_uri``: where the dated report folders go; ``image_uri``: containers/monitor."""
    params = monitor_parameters(config, capture_uri, tracking_uri)
    targets = CaptureJobTargets(
        role_arn, code_uri, image_uri, reports_uri, kms_key_arn, work_bucket, network, code_version
    )
    return capture_job_pipeline(
        config,
        targets,
        pipeline_name=config.monitor_pipeline_name,
        step_name=MONITOR_STEP,
        script="monitor.py",
        job_prefix=monitor_job_prefix(config),
        instance_type=params.instance_type,
        parameters=params.all(),
        tracking_uri=params.tracking_uri,
        data_uris={"capture": params.capture_uri, "ground_truth": params.ground_truth_uri},
        arguments=[
            "--capture-uri",
            params.capture_uri,
            # The window ends when the execution started: a late or retried run judges the
            # same hours, and the report folder is named after them.
            "--window-end",
            ExecutionVariables.START_DATETIME,
            "--window-hours",
            params.window_hours.to_string(),
            "--reference-uri",
            params.reference_uri,
            "--served-package-parameter",
            config.served_model_parameter,
            "--ground-truth-uri",
            params.ground_truth_uri,
            "--drift-threshold",
            params.drift_threshold.to_string(),
            "--accuracy-margin",
            str(config.monitoring.accuracy_alarm_margin),
            "--endpoint-name",
            config.endpoint_name,
            "--metrics-namespace",
            metrics_namespace(config),
            "--publish-metrics",
            params.publish_metrics,
        ],
    )
