"""Lambda tests import each function's folder the way the Lambda runtime does (folder on sys.path)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"


@pytest.fixture()
def start_pipeline_module(monkeypatch):
    monkeypatch.syspath_prepend(str(LAMBDAS / "start_pipeline"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("handler", "drop"):
        sys.modules.pop(name, None)
    import handler

    yield handler
    for name in ("handler", "drop"):
        sys.modules.pop(name, None)


DEPLOY_MODEL_MODULES = (
    "handler",
    "events",
    "names",
    "settings",
    "pending",
    "notify",
    "clone",
    "deploy",
    "verify",
    "end_test",
)
DEPLOY_MODEL_ENV = {
    "MODEL_PACKAGE_GROUP_NAME": "roberta-sentiment-dev-sentiment",
    "ENDPOINT_NAME": "roberta-sentiment-dev-sentiment",
    "SERVED_MODEL_PARAMETER": "/roberta-sentiment/dev/serving/model-package-arn",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:roberta-sentiment-dev-deployments",
}


@pytest.fixture()
def deploy_model(monkeypatch):
    """lambdas/deploy_model with its environment set and Stubber-backed clients injected.

    Yields a namespace: the function's modules by name (handler, deploy, verify...), the
    injected ``aws`` clients, and one Stubber per service (sagemaker, ssm, sns). A stubber given no
    responses fails any call to its service, and every queued response must be consumed.
    """
    monkeypatch.syspath_prepend(str(LAMBDAS / "deploy_model"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name, value in DEPLOY_MODEL_ENV.items():
        monkeypatch.setenv(name, value)
    for name in DEPLOY_MODEL_MODULES:
        sys.modules.pop(name, None)
    import handler
    from settings import Clients

    def client(service):
        return boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    aws = Clients(sagemaker=client("sagemaker"), ssm=client("ssm"), sns=client("sns"))
    monkeypatch.setattr(handler, "_clients", aws)
    stubbers = {service: Stubber(getattr(aws, service)) for service in ("sagemaker", "ssm", "sns")}
    for stubber in stubbers.values():
        stubber.activate()
    modules = {name: sys.modules[name] for name in DEPLOY_MODEL_MODULES}
    yield SimpleNamespace(aws=aws, **modules, **stubbers)
    for stubber in stubbers.values():
        stubber.deactivate()
        stubber.assert_no_pending_responses()
    for name in DEPLOY_MODEL_MODULES:
        sys.modules.pop(name, None)


@dataclass
class LambdaContext:
    function_name: str = "start-pipeline"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:111111111111:function:start-pipeline"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.fixture()
def lambda_context() -> LambdaContext:
    return LambdaContext()
