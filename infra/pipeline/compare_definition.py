"""The challenger comparison pipeline: one Processing step running ml_code/compare.py.

``<prefix>-compare`` runs on ``serving.challenger.schedule`` while a challenger is on the
endpoint (infra/constructs/challenger_comparison.py) and on demand. Its step, CompareVariants,
reads the window of data capture of both variants (the champion, AllTraffic, and the
Challenger), the delayed ground truth, and CloudWatch's per-variant latency and errors, and
writes comparison.json / comparison.md / metrics.json under ReportsUri/<yyyy>/<mm>/<dd>/<hh>/.
It runs in the monitoring image (containers/monitor) for the same reasons as the drift job.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline

from infra.config import EnvironmentConfig
from infra.pipeline.capture_job_step import CaptureJobTargets, capture_job_pipeline
from infra.pipeline.monitor_definition import NONE, metrics_namespace
from infra.pipeline.network import JobNetwork
from infra.pipeline.tracking import tracking_uri_parameter

COMPARE_STEP = "CompareVariants"
CHAMPION_VARIANT = "AllTraffic"  # infra/constructs/sentiment_endpoint.py's production variant
CHALLENGER_VARIANT = "Challenger"


def compare_job_prefix(config: EnvironmentConfig) -> str:
    """Name prefix of the processing jobs executions create (the role is scoped to it)."""
    return f"{config.prefix}-compare"


@dataclass(frozen=True)
class CompareParameters:
    capture_uri: ParameterString
    ground_truth_uri: ParameterString
    window_hours: ParameterInteger
    publish_metrics: ParameterString
    cloudwatch: ParameterString
    instance_type: ParameterString
    tracking_uri: ParameterString  # the MLflow App ARN, "none": not tracked

    def all(self) -> list:
        return list(vars(self).values())


def compare_parameters(config: EnvironmentConfig, capture_uri: str, tracking_uri: str = "") -> CompareParameters:
    challenger = config.serving.challenger
    return CompareParameters(
        capture_uri=ParameterString("CaptureUri", capture_uri),
        ground_truth_uri=ParameterString("GroundTruthUri", config.monitoring.ground_truth_s3_uri or NONE),
        window_hours=ParameterInteger("WindowHours", challenger.window_hours),
        publish_metrics=ParameterString("PublishMetrics", "true", enum_values=["true", "false"]),
        # Per-variant latency and error rates come from CloudWatch (false: left out, said so).
        cloudwatch=ParameterString("CloudWatch", "true", enum_values=["true", "false"]),
        instance_type=ParameterString("InstanceType", config.monitoring.instance_type),
        tracking_uri=tracking_uri_parameter(tracking_uri),
    )


def build_compare_pipeline(
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
    """``capture_uri``: the endpoint's capture prefix (both variants beneath it); ``reports_uri``:
    where the dated comparison folders go; ``image_uri``: containers/monitor."""
    challenger = config.serving.challenger
    params = compare_parameters(config, capture_uri, tracking_uri)
    targets = CaptureJobTargets(
        role_arn, code_uri, image_uri, reports_uri, kms_key_arn, work_bucket, network, code_version
    )
    return capture_job_pipeline(
        config,
        targets,
        pipeline_name=config.compare_pipeline_name,
        step_name=COMPARE_STEP,
        script="compare.py",
        job_prefix=compare_job_prefix(config),
        instance_type=params.instance_type,
        parameters=params.all(),
        tracking_uri=params.tracking_uri,
        data_uris={"capture": params.capture_uri, "ground_truth": params.ground_truth_uri},
        arguments=[
            "--capture-uri",
            params.capture_uri,
            "--window-end",
            ExecutionVariables.START_DATETIME,
            "--window-hours",
            params.window_hours.to_string(),
            "--mode",
            challenger.mode if challenger.mode != "off" else "shadow",
            "--champion-variant",
            CHAMPION_VARIANT,
            "--challenger-variant",
            CHALLENGER_VARIANT,
            "--ground-truth-uri",
            params.ground_truth_uri,
            "--recommend-margin",
            str(challenger.recommend_margin),
            "--recommend-min-labelled",
            str(challenger.recommend_min_labelled),
            "--cloudwatch",
            params.cloudwatch,
            "--endpoint-name",
            config.endpoint_name,
            "--metrics-namespace",
            metrics_namespace(config),
            "--publish-metrics",
            params.publish_metrics,
        ],
    )
