"""Lambda tests import each function's folder the way the Lambda runtime does (folder on sys.path)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@dataclass
class LambdaContext:
    function_name: str = "start-pipeline"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:111111111111:function:start-pipeline"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@pytest.fixture()
def lambda_context() -> LambdaContext:
    return LambdaContext()
