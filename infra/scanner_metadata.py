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

CHECKOV = "checkov"
CFN_NAG = "cfn_nag"


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
