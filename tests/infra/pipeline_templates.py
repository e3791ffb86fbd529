"""Read a SageMaker pipeline definition back out of a synthesized template.

CloudFormation receives the definition as an Fn::Join of JSON text and the expressions it
resolves at deploy time (role, bucket, image, App ARN). ``resolved_definition`` stands a
placeholder in for each expression, parses the JSON and returns both, so tests assert on
the definition as deployed (what an expression is, e.g. the App's import), never on hashed
logical ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aws_cdk.assertions import Template


def resolved_definition(template: Template, pipeline_name: str) -> tuple[dict, dict[str, Any]]:
    """(definition, placeholder -> CloudFormation expression) of the pipeline ``pipeline_name``."""
    (pipeline,) = [
        p
        for p in template.find_resources("AWS::SageMaker::Pipeline").values()
        if p["Properties"]["PipelineName"] == pipeline_name
    ]
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    if isinstance(body, str):
        return json.loads(body), {}
    separator, parts = body["Fn::Join"]
    assert separator == ""
    text, expressions = [], {}
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        else:
            placeholder = f"@@cfn{len(expressions)}@@"
            expressions[placeholder] = part
            text.append(placeholder)
    return json.loads("".join(text)), expressions


def all_steps(steps: list[dict]) -> Iterator[dict]:
    """Every step, those in condition branches included."""
    for step in steps:
        yield step
        arguments = step.get("Arguments") or {}
        if step["Type"] == "Condition":
            yield from all_steps(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))


def jobs(definition: dict) -> dict[str, dict]:
    """Step name -> arguments of each processing and training step."""
    return {
        s["Name"]: s["Arguments"] for s in all_steps(definition["Steps"]) if s["Type"] in ("Processing", "Training")
    }


def step(definition: dict, name: str) -> dict:
    (found,) = [s for s in all_steps(definition["Steps"]) if s["Name"] == name]
    return found
