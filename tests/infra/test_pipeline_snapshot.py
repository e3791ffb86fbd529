"""Snapshot of the dev pipeline definition as CloudFormation receives it (in addition to the
semantic tests in test_pipeline_definition.py). Asset hashes are masked so a change to
ml_code alone does not churn it. Regenerate with UPDATE_SNAPSHOTS=1 after an intended change."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from infra.pipeline.sdk_session import AwsCallAtSynthError, offline_pipeline_session

SNAPSHOT = Path(__file__).parent / "snapshots" / "dev_pipeline_definition.json"
TRAINING_PIPELINE = "roberta-sentiment-dev-training"


def _definition(templates) -> str:
    pipelines = templates["dev", "pipeline"].find_resources("AWS::SageMaker::Pipeline")
    # The training pipeline; the stack may hold others (batch scoring).
    (pipeline,) = [p for p in pipelines.values() if p["Properties"]["PipelineName"] == TRAINING_PIPELINE]
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    text = json.dumps(body, indent=1, sort_keys=True)
    return re.sub(r"[0-9a-f]{64}", "<asset-hash>", text) + "\n"


def test_dev_pipeline_definition_matches_the_snapshot(templates):
    current = _definition(templates)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1"
    assert current == SNAPSHOT.read_text(), "pipeline definition changed: review, then UPDATE_SNAPSHOTS=1"


def test_the_offline_session_refuses_any_aws_call():
    session = offline_pipeline_session("us-east-1", "some-bucket")
    with pytest.raises(AwsCallAtSynthError, match=r"POST https://sts\."):
        session.boto_session.client("sts").get_caller_identity()
    assert session.default_bucket() == "some-bucket"  # preset: no ListBuckets/STS lookup
