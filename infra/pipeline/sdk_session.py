"""A SageMaker SDK session that can build pipeline definitions with no AWS call at all.

``PipelineSession()`` normally asks STS for the account and lists buckets to find its
default bucket; telemetry posts in the background. Neither may happen at synth time, so
the default bucket is preset and telemetry is opted out through the SDK's own config.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from sagemaker.workflow.pipeline_context import PipelineSession

_SDK_CONFIG = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


def _validate_sdk_config_once() -> None:
    """Skip re-validating our constant SDK config on every config lookup.

    The Session validates it once when built; sagemaker.utils then re-checks the config
    against the SDK's whole JSON schema on each of the ~100 lookups a pipeline definition
    makes (about 5 s per environment). Other configs are still validated every time.
    """
    import sagemaker.utils

    original = sagemaker.utils.validate_sagemaker_config
    if getattr(original, "offline_once", False):
        return
    sagemaker.utils.validate_sagemaker_config = _ValidateOthers(original)


class _ValidateOthers:
    """``validate_sagemaker_config`` for every config but ours."""

    offline_once = True  # marks the SDK function as already replaced

    def __init__(self, original: Callable[..., object]) -> None:
        self._original = original

    def __call__(self, sagemaker_config: object = None) -> None:  # the SDK function's parameter name
        if sagemaker_config != _SDK_CONFIG:
            self._original(sagemaker_config)


class AwsCallAtSynthError(RuntimeError):
    """The SDK tried to call AWS while building a definition; synth must stay offline."""


def _refuse_aws_calls(request, **_):
    # Fails at once, naming the call, instead of waiting on a network that is not there.
    raise AwsCallAtSynthError(f"the SageMaker SDK tried to call AWS at synth time: {request.method} {request.url}")


@functools.cache
def _boto_session(region: str) -> boto3.Session:
    # Static dummy credentials: botocore never signs a request here, but some SDK code
    # paths build clients eagerly and must not search the environment or IMDS for keys.
    # One per region: loading botocore's service models is most of a session's cost.
    session = boto3.Session(region_name=region, aws_access_key_id="offline", aws_secret_access_key="offline")
    session.events.register("before-send", _refuse_aws_calls)
    return session


def offline_pipeline_session(region: str, default_bucket: str) -> PipelineSession:
    """A PipelineSession for ``region`` whose default bucket is ``default_bucket`` (may be a CDK token)."""
    from sagemaker.workflow.pipeline_context import PipelineSession

    _validate_sdk_config_once()
    # "No Wait, No Logs, and No Job being started" is exactly what synth wants.
    warnings.filterwarnings("ignore", message="Running within a PipelineSession", category=UserWarning)
    # sagemaker.config resets its own logger to INFO on import and logs every lookup.
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    boto_session = _boto_session(region)
    session = PipelineSession(boto_session=boto_session, sagemaker_config=_SDK_CONFIG, default_bucket=default_bucket)
    # The SDK's __init__ sets it to None only, so mypy takes None for its type.
    session._default_bucket = default_bucket  # type: ignore[assignment]
    return session
