"""Scope the build actions CDK Pipelines grants its asset-publishing roles to their own projects.

CDK Pipelines gives each asset role (one for files, one for container images) a statement
allowing ``codebuild:StartBuild``, ``StopBuild`` and ``BatchGetBuilds`` on ``*``: write
access without a resource constraint, which IaC scanners flag (checkov CKV_AWS_111, cfn_nag
W12). The pipeline's actions start the builds through their own action role, so the asset
role needs these actions at most on the asset projects that run as it; after the pipeline is
built those projects are known, and the statement's resource is overridden to exactly them.
Their writes to the bootstrap assets buckets and container repositories go through the
bootstrap publishing roles they assume, which the bootstrap stack already limits.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines

BUILD_ACTIONS = frozenset({"codebuild:BatchGetBuilds", "codebuild:StartBuild", "codebuild:StopBuild"})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def scope_asset_build_actions(pipeline: pipelines.CodePipeline) -> list[iam.CfnPolicy]:
    """Limit each asset role's build actions to its own projects; returns the policies changed.

    Call after ``build_pipeline()``. Raises if an asset role has no such statement (a CDK
    release that changed it should be looked at, not silently passed over).
    """
    stack = cdk.Stack.of(pipeline)
    projects: dict[str, list[codebuild.CfnProject]] = defaultdict(list)
    for node in pipeline.node.find_all():
        if isinstance(node, codebuild.CfnProject) and "/Assets/" in node.node.path:
            role = stack.resolve(node.service_role)["Fn::GetAtt"][0]
            projects[role].append(node)
    changed = []
    for node in pipeline.node.find_all():
        if not isinstance(node, iam.CfnPolicy):
            continue
        roles = [ref["Ref"] for ref in stack.resolve(node.roles) or [] if isinstance(ref, dict) and "Ref" in ref]
        role = next((r for r in roles if r in projects), None)
        if role is None:
            continue
        statements = stack.resolve(node.policy_document)["Statement"]
        matches = [
            index
            for index, statement in enumerate(statements)
            if _as_list(statement.get("Resource")) == ["*"] and set(_as_list(statement["Action"])) <= BUILD_ACTIONS
        ]
        if len(matches) != 1:
            raise ValueError(f"{node.node.path}: expected one build-actions statement on *, found {len(matches)}")
        node.add_property_override(
            f"PolicyDocument.Statement.{matches[0]}.Resource",
            sorted((project.attr_arn for project in projects[role]), key=lambda arn: str(stack.resolve(arn))),
        )
        changed.append(node)
    if len(changed) != len(projects):
        raise ValueError(f"asset roles {sorted(projects)} but {len(changed)} of their policies found")
    return changed
