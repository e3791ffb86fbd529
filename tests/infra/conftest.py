"""Fixtures shared by the infra tests beyond the app synthesized from cdk.json (tests/conftest.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.app_builder import build_app
from tests.conftest import served_context

CHALLENGER = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/8"


@pytest.fixture(scope="session")
def challenger_untracked_dev(cdk_context, tmp_path_factory):
    """(stages, cloud assembly directory) of the app with a challenger on prod's endpoint (so
    a comparison pipeline exists) and tracking turned off in dev."""
    context = copy.deepcopy(served_context(cdk_context))
    context["mlops"]["environments"]["prod"]["serving"]["challenger"]["mode"] = "shadow"
    context["mlops.challenger_package_arn.prod"] = CHALLENGER
    context["mlops"]["environments"]["dev"]["tracking"]["enabled"] = False
    outdir = tmp_path_factory.mktemp("cdk.out.tracking")
    app = cdk.App(context=context, outdir=str(outdir))
    stages = build_app(app)
    return stages, Path(app.synth().directory)
