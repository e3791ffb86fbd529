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

from sagemaker.processing import ProcessingOutput, Processor
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagemaker.workflow.steps import ProcessingStep

from infra.config import EnvironmentConfig
from infra.pipeline.network import JobNetwork, processing_network
from infra.pipeline.retries import JOB_RETRIES
from infra.pipeline.sdk_session import offline_pipeline_session
from infra.pipeline.step_helpers import PROCESSING_ROOT, code_input, script_entrypoint

MONITOR_STEP = "DriftMonitor"
SERVED = "served"  # ReferenceUri: the reference of whatever package the endpoint serves now
NONE = "none"
REPORT_DIR = f"{PROCESSING_ROOT}/report"
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

    def all(self) -> list:
        return list(vars(self).values())


def monitor_parameters(config: EnvironmentConfig, capture_uri: str) -> MonitorParameters:
    monitoring = config.monitoring
    return MonitorParameters(
        capture_uri=ParameterString("CaptureUri", capture_uri),
        reference_uri=ParameterString("ReferenceUri", SERVED),
        ground_truth_uri=ParameterString("GroundTruthUri", monitoring.ground_truth_s3_uri or NONE),
        window_hours=ParameterInteger("WindowHours", monitoring.window_hours),
        drift_threshold=ParameterFloat("DriftThreshold", monitoring.drift_threshold),
        publish_metrics=ParameterString("PublishMetrics", "true", enum_values=["true", "false"]),
        instance_type=ParameterString("InstanceType", monitoring.instance_type),
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
) -> Pipeline:
    """``capture_uri``: the endpoint's capture prefix (s3://.../datacapture/<endpoint>);
    ``reports_uri``: where the dated report folders go; ``image_uri``: containers/monitor."""
    session = offline_pipeline_session(config.region, work_bucket)
    params = monitor_parameters(config, capture_uri)
    processor = Processor(
        role=role_arn,
        image_uri=image_uri,
        instance_type=params.instance_type,
        instance_count=1,  # the window is sampled to a bounded size: one instance is enough
        entrypoint=script_entrypoint("monitor.py"),
        volume_kms_key=kms_key_arn,
        output_kms_key=kms_key_arn,
        base_job_name=monitor_job_prefix(config),
        env={"AWS_DEFAULT_REGION": config.region},
        max_runtime_in_seconds=3600,
        # Not isolated: it calls SSM, SageMaker, S3 and CloudWatch (through the VPC endpoints).
        network_config=processing_network(network, isolated=False),
        sagemaker_session=session,
    )
    args = processor.run(
        inputs=[code_input(code_uri)],
        # A Join: the SDK parses a plain string destination as a URL, which a CDK token breaks.
        outputs=[
            ProcessingOutput(output_name="report", source=REPORT_DIR, destination=Join(on="", values=[reports_uri]))
        ],
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
            "--report-dir",
            REPORT_DIR,
        ],
    )
    step = ProcessingStep(MONITOR_STEP, step_args=args, retry_policies=JOB_RETRIES)
    return Pipeline(
        name=config.monitor_pipeline_name,
        parameters=params.all(),
        steps=[step],
        sagemaker_session=session,
        # Jobs are named <prefix>-monitor-<id>: the role is scoped to this environment's jobs.
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
        pipeline_experiment_config=None,
    )
