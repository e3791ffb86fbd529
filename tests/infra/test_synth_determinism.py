"""Two synths of the app give the same templates, pipeline definitions included."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk

from infra.app_builder import build_app


def _templates(context: dict, outdir) -> dict[str, str]:
    app = cdk.App(context=context, outdir=str(outdir))
    build_app(app)
    assembly = app.synth()
    return {path.name: path.read_text() for path in sorted(Path(assembly.directory).glob("assembly-*/*.template.json"))}


def test_two_synths_produce_identical_templates(cdk_context, synthesized, tmp_path):
    _, first_dir = synthesized
    first = {p.name: p.read_text() for p in sorted(first_dir.glob("assembly-*/*.template.json"))}
    second = _templates(cdk_context, tmp_path)
    assert first.keys() == second.keys() and len(first) == 9
    assert first == second
    pipeline = json.loads(next(v for k, v in first.items() if k.startswith("devPipeline")))
    (resource,) = [r for r in pipeline["Resources"].values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    assert "PipelineDefinitionBody" in resource["Properties"]["PipelineDefinition"]
