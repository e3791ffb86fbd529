"""Fail the CDK app on any unacknowledged cdk-nag (or CloudFormation validation) finding.

The CDK CLI sets ``@aws-cdk/core:failSynthOnValidationErrors`` to false for the app it
runs, and CLI 2.1148 then does not fail ``cdk synth`` or ``cdk deploy`` on the report.
So the app reads the report it just wrote and exits non-zero itself.
"""

from __future__ import annotations

import json
from pathlib import Path

REPORT_FILE = "validation-report.json"


def failures(assembly_dir: str | Path) -> list[str]:
    """One line per violating construct of every failed plugin report; [] when clean."""
    path = Path(assembly_dir) / REPORT_FILE
    if not path.exists():
        return []
    report = json.loads(path.read_text())
    lines = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("conclusion") != "failure":
            continue
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']}: {construct['constructPath']}: {violation['description']}")
    return lines
