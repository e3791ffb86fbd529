"""Scheduled comparison of the champion and the challenger: the `<prefix>-compare` pipeline.

While a challenger is on the endpoint (``serving.challenger``), an EventBridge rule
(CompareSchedule) starts the comparison pipeline (infra/pipeline/compare_definition.py) on
``serving.challenger.schedule``; it can also be started by hand. Its job reads both variants'
capture, the delayed ground truth and the per-variant CloudWatch metrics.
"""

from __future__ import annotations

from infra.config import EnvironmentConfig
from infra.constructs.capture_job import CaptureJobSpec
from infra.pipeline.compare_definition import build_compare_pipeline, compare_job_prefix


def challenger_comparison_spec(config: EnvironmentConfig) -> CaptureJobSpec:
    return CaptureJobSpec(
        pipeline_name=config.compare_pipeline_name,
        job_prefix=compare_job_prefix(config),
        description="Champion vs challenger on live traffic: agreement, accuracy, latency, errors",
        schedule=config.serving.challenger.schedule,
        schedule_id="CompareSchedule",
        build=build_compare_pipeline,
        endpoint_metrics=True,
    )
