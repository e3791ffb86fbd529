"""Two synths of the app give the same templates, pipeline definitions included."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

from infra.app_builder import build_app
from tests.conftest import served_context


def _templates(context: dict, outdir) -> dict[str, str]:
    app = cdk.App(context=context, outdir=str(outdir))
    build_app(app)
    assembly = app.synth()
    return _read(Path(assembly.directory))


def _read(assembly: Path) -> dict[str, str]:
    paths = [*assembly.glob("assembly-*/*.template.json"), *assembly.glob("*.template.json")]
    return {path.name: path.read_text() for path in sorted(paths)}


def test_two_synths_produce_identical_templates(cdk_context, synthesized, tmp_path):
    _, first_dir = synthesized
    first = _read(first_dir)
    second = _templates(served_context(cdk_context), tmp_path)
    # 4 stacks x 3 environments, the network stacks of staging and prod, and the delivery stack
    assert first.keys() == second.keys() and len(first) == 15
    assert first == second
    pipeline = json.loads(next(v for k, v in first.items() if k.startswith("devPipeline")))
    (resource,) = [
        r
        for r in pipeline["Resources"].values()
        if r["Type"] == "AWS::SageMaker::Pipeline"
        and r["Properties"]["PipelineName"] == "roberta-sentiment-dev-training"
    ]
    assert "PipelineDefinitionBody" in resource["Properties"]["PipelineDefinition"]
