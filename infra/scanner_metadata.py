"""Acknowledgements for independent IaC scanners, written into the template with their reason.

Security teams run checkov and cfn_nag over the synthesized templates, not over the CDK
app, so cdk-nag's acknowledgements (infra/nag.py) are invisible to them. Each scanner reads
its own key of a resource's ``Metadata``:

- checkov: ``{"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "..."}]}}``
- cfn_nag: ``{"cfn_nag": {"rules_to_suppress": [{"id": "W89", "reason": "..."}]}}``

``acknowledge_scanner`` adds one rule to either or both, keeping every other metadata key
(cfn-lint's ``ignore_checks``, CDK's ``aws:cdk:path``) and the rules already listed.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import IConstruct

CHECKOV = "checkov"
CFN_NAG = "cfn_nag"
# The stack-wide singleton function behind CDK's AwsCustomResource (SDK calls at deploy time).
SDK_CALL_PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"
# It takes none of these settings from us; it has no environment variables (CKV_AWS_173 passes).
SDK_CALL_PROVIDER_FINDINGS = (
    ("CKV_AWS_116", None, "Invoked by CloudFormation only, which fails the deployment on an error: no event to keep"),
    ("CKV_AWS_115", "W92", "Runs once per deployment; reserved concurrency would only shrink the account's pool"),
    ("CKV_AWS_117", "W89", "CDK's SDK-call provider calls AWS APIs only, from Lambda's network, once per deployment"),
)


def _merged(existing: Any, list_key: str, entry: dict[str, str]) -> dict[str, Any]:
    current = dict(existing) if isinstance(existing, dict) else {}
    entries = [e for e in current.get(list_key, []) if e.get("id") != entry["id"]]
    current[list_key] = [*entries, entry]
    return current


def acknowledge_scanner(
    resource: cdk.CfnResource, *, checkov: str | None = None, cfn_nag: str | None = None, reason: str
) -> None:
    """Acknowledge checkov rule ``checkov`` and/or cfn_nag rule ``cfn_nag`` on ``resource``, with ``reason``.

    Acknowledging the same rule again replaces its reason; other rules and metadata stay.
    """
    if checkov is None and cfn_nag is None:
        raise ValueError("give a checkov or a cfn_nag rule id")
    if not reason.strip():
        raise ValueError("an acknowledgement needs a reason")
    if checkov is not None:
        entry = {"id": checkov, "comment": reason}
        resource.add_metadata(CHECKOV, _merged(resource.get_metadata(CHECKOV), "skip", entry))
    if cfn_nag is not None:
        entry = {"id": cfn_nag, "reason": reason}
        resource.add_metadata(CFN_NAG, _merged(resource.get_metadata(CFN_NAG), "rules_to_suppress", entry))


@jsii.implements(cdk.IAspect)
class SdkCallProviderAcknowledgements:
    """Acknowledges, on every CDK SDK-call provider function below the scope, what scanners raise.

    Added to each stage (aspects do not cross stage boundaries) by ``build_app``, so a
    construct that adds an AwsCustomResource anywhere needs nothing more.
    """

    def visit(self, node: IConstruct) -> None:
        parent = node.node.scope
        if isinstance(node, lambda_.CfnFunction) and parent is not None and parent.node.id == SDK_CALL_PROVIDER_ID:
            for checkov, cfn_nag, reason in SDK_CALL_PROVIDER_FINDINGS:
                acknowledge_scanner(node, checkov=checkov, cfn_nag=cfn_nag, reason=reason)
