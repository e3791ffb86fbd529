"""What the function acts on (from its environment) and the AWS clients it acts with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

# A boto3 client. boto3 ships no type information and boto3-stubs is not a dependency, so
# clients are Any at this boundary only; what they return is annotated where it is read.
AwsClient: TypeAlias = Any


@dataclass(frozen=True)
class Settings:
    model_package_group: str  # only packages of this registry group are ever deployed
    endpoint_name: str  # the endpoint CloudFormation created; updated here, never created
    served_model_parameter: str  # SSM parameter: the package ARN the endpoint serves (promotion reads it)
    topic_arn: str  # SNS topic for deployment outcomes

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
        return cls(*(environ[name] for name in names))


@dataclass(frozen=True)
class Clients:
    sagemaker: AwsClient
    ssm: AwsClient
    sns: AwsClient
