"""Security gates: cdk-nag AwsSolutions and cfn-lint on the whole app, and proof both can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from infra.app_builder import build_app
from infra.nag import acknowledge_wildcard
from infra.stacks.delivery_stack import DELIVERY_STACK_ID
from infra.validation_report import failures

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def _templates(assembly: Path) -> list[Path]:
    """Every environment's stacks (nested assemblies) and the delivery stack (top level)."""
    return sorted([*assembly.glob("assembly-*/*.template.json"), *assembly.glob("*.template.json")])


def _cfn_lint(paths: list[Path]) -> subprocess.CompletedProcess:
    # Run from the repo root so .cfnlintrc.yaml (the one list of ignored rules) applies.
    return subprocess.run(
        [str(CFN_LINT), "--format", "parseable", *map(str, paths)], cwd=ROOT, capture_output=True, text=True
    )


def test_whole_app_has_no_unacknowledged_nag_findings(synthesized):
    _, assembly = synthesized
    report = json.loads((assembly / "validation-report.json").read_text())
    # A clean run lists no violations; the only suppressed ones are CDK's own acknowledgement of
    # the configured availability zones of the created VPCs (W3010), each with its reason.
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success" and plugin["violations"] == [], plugin["pluginName"]
        for suppressed in plugin.get("suppressedViolations", []):
            assert suppressed["ruleName"] == "W3010" and suppressed["reason"], suppressed
            assert all("/Network/" in c["constructPath"] for c in suppressed["violatingConstructs"])
    assert failures(assembly) == []


def test_nag_gate_covers_every_stage_of_the_real_app(cdk_context, tmp_path):
    # The clean report above lists no violation, so prove build_app wires the checks into every
    # stage by planting one non-compliant bucket per environment.
    app = cdk.App(context=cdk_context, outdir=str(tmp_path))

    def plant(stages):
        for stage in stages.values():
            s3.Bucket(stage.analytics, "Planted", enforce_ssl=True)

    build_app(app, extend=plant)
    s3.Bucket(app.node.find_child(DELIVERY_STACK_ID), "Planted", enforce_ssl=True)
    found = _synth_failures(app, tmp_path)
    planted = sorted(line.split(":")[1].strip() for line in found)
    expected = [f"{env}/Analytics/Planted/Resource" for env in ("dev", "prod", "staging")]
    assert planted == sorted([*expected, "Delivery/Planted/Resource"])
    assert all(line.startswith("AwsSolutions-S1:") for line in found)


def test_every_template_is_cfn_lint_clean(synthesized):
    _, assembly = synthesized
    templates = _templates(assembly)
    # data, analytics, pipeline and serving for dev, staging, prod; network for staging and prod; delivery
    assert len(templates) == 15
    result = _cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr


def _small_app(tmp_path: Path) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Planted", env=cdk.Environment(account="111111111111", region="us-east-1"))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def _synth_failures(app: cdk.App, tmp_path: Path) -> list[str]:
    # In-process synth raises on findings (the CLI would not: see infra/validation_report.py).
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    return failures(tmp_path)


def test_nag_gate_fails_on_a_planted_noncompliant_bucket(tmp_path):
    app, stack = _small_app(tmp_path)
    s3.Bucket(stack, "Leaky")  # no TLS enforcement, no access logs
    found = _synth_failures(app, tmp_path)
    assert any(line.startswith("AwsSolutions-S1: Planted/Leaky/Resource") for line in found)
    assert any(line.startswith("AwsSolutions-S10: Planted/Leaky/Resource") for line in found)


def test_wildcard_acknowledgement_covers_only_the_named_resource(tmp_path):
    app, stack = _small_app(tmp_path)
    bucket = s3.Bucket(
        stack, "Data", enforce_ssl=True, server_access_logs_prefix="self/", encryption=s3.BucketEncryption.S3_MANAGED
    )
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    acknowledged, planted = bucket.arn_for_objects("known/*"), bucket.arn_for_objects("other/*")
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[acknowledged, planted]))
    rule = acknowledge_wildcard(role, resource=acknowledged, reason="test: objects under known/")
    assert rule.startswith("AwsSolutions-IAM5[Resource::<Data") and rule.endswith(".Arn>/known/*]")
    found = [line for line in _synth_failures(app, tmp_path) if "IAM5" in line]
    assert len(found) == 1 and "/other/*]" in found[0]


def test_cfn_lint_gate_fails_on_a_planted_invalid_template(tmp_path):
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": {"Status": "Maybe"}}}
        }
    }
    path = tmp_path / "planted.template.json"
    path.write_text(json.dumps(template))
    result = _cfn_lint([path])
    assert result.returncode != 0
    assert "Maybe" in result.stdout
