"""Scheduled Evidently monitoring of an endpoint: the `<prefix>-monitor` pipeline and its schedule.

The default engine (``monitoring.engine: "evidently"``): every ``monitoring.schedule`` an
EventBridge rule (MonitorSchedule) starts the monitoring pipeline
(infra/pipeline/monitor_definition.py), whose DriftMonitor job judges the last
``window_hours`` of data capture against the served package's reference and publishes metrics
in ``<project>/Monitoring`` (DriftAlarms and the model-quality alarm read them). It needs no
Model Monitor, which AWS closed to new customers.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.config import EnvironmentConfig
from infra.constructs.capture_job import CaptureJobSpec
from infra.pipeline.monitor_definition import build_monitor_pipeline, monitor_job_prefix


def drift_monitor_spec(config: EnvironmentConfig, group_arns: Sequence[str]) -> CaptureJobSpec:
    """``group_arns``: model package groups whose versions may be served (the job resolves the
    served package's reference through them)."""
    return CaptureJobSpec(
        pipeline_name=config.monitor_pipeline_name,
        job_prefix=monitor_job_prefix(config),
        description="Drift, data quality and model quality of the endpoint's captured traffic (Evidently)",
        schedule=config.monitoring.schedule,
        schedule_id="MonitorSchedule",
        build=build_monitor_pipeline,
        served_parameter=config.served_model_parameter,
        group_arns=tuple(group_arns),
    )
