"""What the function acts on (from its environment) and the AWS clients it acts with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

# A boto3 client. boto3 ships no type information and boto3-stubs is not a dependency, so
# clients are Any at this boundary only; what they return is annotated where it is read.
AwsClient: TypeAlias = Any

# CHALLENGER_MODE: "off" (an approved package replaces the champion), "shadow" or "ab" (it
# becomes the challenger beside the champion, on CHALLENGER_TRAFFIC_PERCENT % of requests).
CHALLENGER_MODES = ("off", "shadow", "ab")
MAX_CHALLENGER_PERCENT = 50  # the infra's bound too: a challenger answering half the callers is no test


@dataclass(frozen=True)
class Settings:
    model_package_group: str  # only packages of this registry group are ever deployed
    endpoint_name: str  # the endpoint CloudFormation created; updated here, never created
    served_model_parameter: str  # SSM parameter: the package ARN the endpoint serves (promotion reads it)
    topic_arn: str  # SNS topic for deployment outcomes
    challenger_mode: str = "off"  # off, shadow or ab (CHALLENGER_MODE; unset: off)
    challenger_traffic_percent: int = 0  # 1-50 when challenger_mode is not off

    @property
    def pending_parameter(self) -> str:
        """SSM parameter holding the deployment in flight (see pending.py for why SSM)."""
        return f"{self.served_model_parameter}/pending"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        names = ("MODEL_PACKAGE_GROUP_NAME", "ENDPOINT_NAME", "SERVED_MODEL_PARAMETER", "TOPIC_ARN")
        missing = [name for name in names if not environ.get(name)]
        if missing:
            # A deployment mistake, not a bad event: fail every invocation loudly.
            raise RuntimeError(f"environment variable(s) not set: {', '.join(missing)}")
        mode = environ.get("CHALLENGER_MODE") or "off"
        if mode not in CHALLENGER_MODES:
            raise RuntimeError(f"CHALLENGER_MODE is {mode!r}, not one of {', '.join(CHALLENGER_MODES)}")
        percent = 0
        if mode != "off":
            text = environ.get("CHALLENGER_TRAFFIC_PERCENT", "")
            if not text.isdigit() or not 1 <= int(text) <= MAX_CHALLENGER_PERCENT:
                raise RuntimeError(
                    f"CHALLENGER_TRAFFIC_PERCENT is {text!r}, not an integer from 1 to {MAX_CHALLENGER_PERCENT}"
                )
            percent = int(text)
        group, endpoint, parameter, topic = (environ[name] for name in names)
        return cls(group, endpoint, parameter, topic, challenger_mode=mode, challenger_traffic_percent=percent)


@dataclass(frozen=True)
class Clients:
    sagemaker: AwsClient
    ssm: AwsClient
    sns: AwsClient
