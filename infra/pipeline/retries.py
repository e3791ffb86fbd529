"""Retry policies shared by the pipeline's steps.

Throttling and transient service faults are retried by the pipeline itself; for SageMaker
jobs, capacity errors (no GPU free right now) and internal errors are retried with a long
backoff, which is what makes Spot and scarce GPU types usable unattended.
"""

from __future__ import annotations

from sagemaker.workflow.retry import (
    RetryPolicy,
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)

_SERVICE = StepRetryPolicy(
    exception_types=[StepExceptionTypeEnum.THROTTLING, StepExceptionTypeEnum.SERVICE_FAULT],
    interval_seconds=10,
    backoff_rate=2.0,
    max_attempts=5,
)
_CAPACITY = SageMakerJobStepRetryPolicy(
    exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR, SageMakerJobExceptionTypeEnum.INTERNAL_ERROR],
    interval_seconds=300,
    backoff_rate=2.0,
    max_attempts=4,
)
_LIMIT = SageMakerJobStepRetryPolicy(
    exception_types=[SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT],
    interval_seconds=60,
    backoff_rate=2.0,
    max_attempts=5,
)

# Typed as the steps' parameter (a list of any RetryPolicy), which a list[StepRetryPolicy] is not.
SERVICE_RETRIES: list[RetryPolicy] = [_SERVICE]
JOB_RETRIES: list[RetryPolicy] = [_SERVICE, _CAPACITY, _LIMIT]
