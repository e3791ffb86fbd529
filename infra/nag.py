"""cdk-nag acknowledgements: one construct, one finding, one reason each.

cdk-nag 3 reports each wildcard in an IAM policy as its own finding,
``AwsSolutions-IAM5[Resource::<flattened resource>]``. ``acknowledge_wildcard`` takes the
same expression the policy was built from and flattens it as cdk-nag does, so the
acknowledgement names exactly that resource (never a blanket IAM5) and no hashed logical
id is written by hand. Only same-stack references can be flattened at construction time;
cross-stack ones become exports later, which is one reason IAM wildcards stay within a stack.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def flatten(node: Any) -> str:
    # Mirrors cdk-nag's utils/flatten-cfn-reference (Fn::Join, Fn::Sub, GetAtt, ImportValue, Ref).
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return delimiter.join(flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return flatten(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{flatten(resource)}.{flatten(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (e.g. ``AwsSolutions-S1``) on ``scope`` and its children."""
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_wildcard(
    scope: IConstruct, *, reason: str, resource: str | None = None, action: str | None = None
) -> str:
    """Acknowledge one IAM5 wildcard finding on ``scope`` (a role or policy); returns its id."""
    if (resource is None) == (action is None):
        raise ValueError("give exactly one of resource or action")
    if resource is not None:
        finding = "Resource::" + flatten(cdk.Stack.of(scope).resolve(resource))
    else:
        finding = f"Action::{action}"
    rule = f"AwsSolutions-IAM5[{finding}]"
    acknowledge(scope, rule, reason)
    return rule
