"""Shared fixtures: the whole app synthesized once per test session, from the real cdk.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@pytest.fixture(scope="session")
def cdk_context() -> dict:
    """The context block of cdk.json, feature flags included."""
    return json.loads((ROOT / "cdk.json").read_text())["context"]


# A package version of dev's registry, promoted everywhere: what the delivery pipeline's
# synth passes (-c mlops.model_package_arn.<env>=...) once a model has been approved.
SERVED_PACKAGE = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/7"


def served_context(cdk_context: dict, arn: str = SERVED_PACKAGE) -> dict:
    from infra.config import MODEL_PACKAGE_CONTEXT

    return {**cdk_context, **{f"{MODEL_PACKAGE_CONTEXT}{env}": arn for env in ("dev", "staging", "prod")}}


@pytest.fixture(scope="session")
def synthesized(cdk_context, tmp_path_factory):
    """(stages by environment name, cloud assembly directory) for the app as cdk.json defines
    it, with a model package to serve in every environment (so endpoints and monitors exist)."""
    import aws_cdk as cdk

    from infra.app_builder import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(context=served_context(cdk_context), outdir=str(outdir))
    stages = build_app(app)
    assembly = app.synth()
    return stages, Path(assembly.directory)


@pytest.fixture(scope="session")
def stages(synthesized):
    return synthesized[0]


@pytest.fixture(scope="session")
def templates(stages):
    """Template per (environment, stack): templates["dev", "data"]."""
    from aws_cdk.assertions import Template

    return {
        (name, kind): Template.from_stack(getattr(stage, kind))
        for name, stage in stages.items()
        for kind in ("data", "analytics", "pipeline", "serving")
    }


SAMPLE_DATA = ROOT / "data" / "sample" / "womens_clothing_reviews_sample.csv.gz"
# The full course data set, beside the repo in CI and on developer machines (not in the repo).
REAL_DATA = ROOT.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not REAL_DATA.exists():
        pytest.skip(f"real data set not found at {REAL_DATA} (it ships in ../shared/data, not in the repo)")
    return REAL_DATA


@pytest.fixture(scope="session")
def tiny_roberta(tmp_path_factory) -> Path:
    """A small RoBERTa tokenizer and untrained 3-label classifier, built once from the sample data."""
    from tools.tiny_roberta import build_model, build_tokenizer, review_texts

    out = tmp_path_factory.mktemp("tiny-roberta")
    tokenizer = build_tokenizer(review_texts([SAMPLE_DATA]), out, vocab_size=2000, max_length=512)
    build_model(tokenizer, out, hidden_size=64, layers=2, heads=2)
    return out
