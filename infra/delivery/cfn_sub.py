"""Rewrite CDK Pipelines' ``Fn::Join`` with an empty delimiter into the ``Fn::Sub`` cfn-lint wants.

cfn-lint 1.58 reports E3703 for such joins in CodePipeline action configurations (the
cross-account role ARNs CDK Pipelines writes there). The two forms are equivalent; this
turns each join of plain text, Refs and GetAtts into one ``Fn::Sub`` string.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codepipeline as codepipeline


def join_to_sub(value: Any) -> Any:
    """``{"Fn::Join": ["", parts]}`` -> ``{"Fn::Sub": "..."}``; anything else unchanged."""
    if not (isinstance(value, dict) and list(value) == ["Fn::Join"] and value["Fn::Join"][0] == ""):
        return value
    text = []
    for part in value["Fn::Join"][1]:
        if isinstance(part, str):
            text.append(part.replace("${", "${!"))  # a literal "${" must not become a variable
        elif isinstance(part, dict) and list(part) == ["Ref"]:
            text.append("${" + part["Ref"] + "}")
        elif isinstance(part, dict) and list(part) == ["Fn::GetAtt"]:
            text.append("${" + ".".join(part["Fn::GetAtt"]) + "}")
        else:
            return value  # nested functions: leave the join as it is
    return {"Fn::Sub": "".join(text)}


def prefer_sub_in_action_configurations(pipeline: codepipeline.CfnPipeline) -> int:
    """Override each convertible joined configuration value; returns how many changed."""
    # The L1 property resolves with CDK's camelCase keys; the overrides use CloudFormation's.
    stages = cdk.Stack.of(pipeline).resolve(pipeline.stages)
    changed = 0
    for s, stage in enumerate(stages):
        for a, action in enumerate(stage["actions"]):
            for key, value in (action.get("configuration") or {}).items():
                converted = join_to_sub(value)
                if converted is not value:
                    pipeline.add_property_override(f"Stages.{s}.Actions.{a}.Configuration.{key}", converted)
                    changed += 1
    return changed
