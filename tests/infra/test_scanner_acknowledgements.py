"""What independent IaC scanners (checkov, cfn_nag) read in the synthesized templates.

Each finding they would raise is fixed, or acknowledged in the resource's metadata with a
reason: Lambda environment variables under a customer-managed key, functions in a VPC or
saying why not, access-log buckets saying why they log nowhere. cfn-lint's own metadata stays.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def _reason(metadata: dict, scanner: str, rule: str) -> str:
    entries = metadata.get(scanner, {}).get("skip" if scanner == "checkov" else "rules_to_suppress", [])
    return next((e.get("comment") or e.get("reason") or "" for e in entries if e["id"] == rule), "")


@pytest.fixture(scope="module")
def resources(synthesized) -> list[tuple[str, str, dict]]:
    """(template file, logical id, resource) for every template of the app, delivery included."""
    _, assembly = synthesized
    paths = sorted([*assembly.glob("assembly-*/*.template.json"), *assembly.glob("*.template.json")])
    assert len(paths) >= 13
    return [
        (Path(path).name, logical, resource)
        for path in paths
        for logical, resource in json.loads(Path(path).read_text())["Resources"].items()
    ]


def _of_type(resources, kind: str) -> list[tuple[str, str, dict]]:
    return [r for r in resources if r[2]["Type"] == kind]


def test_every_function_encrypts_its_environment_with_a_cmk_or_says_why_not(resources):
    functions = _of_type(resources, "AWS::Lambda::Function")
    assert functions
    for template, logical, function in functions:
        has_variables = bool(function["Properties"].get("Environment", {}).get("Variables"))
        assert (
            "KmsKeyArn" in function["Properties"]
            or not has_variables
            or _reason(function.get("Metadata", {}), "checkov", "CKV_AWS_173")
        ), f"{template} {logical}"


def test_every_function_runs_in_a_vpc_or_says_why_not(resources):
    for template, logical, function in _of_type(resources, "AWS::Lambda::Function"):
        if "VpcConfig" in function["Properties"]:
            continue
        metadata = function.get("Metadata", {})
        assert _reason(metadata, "checkov", "CKV_AWS_117"), f"{template} {logical}"
        assert _reason(metadata, "cfn_nag", "W89"), f"{template} {logical}"


def test_cfn_lint_metadata_survives_beside_the_scanners(resources):
    for template, logical, function in _of_type(resources, "AWS::Lambda::Function"):
        assert function["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}}, f"{template} {logical}"


def test_access_log_buckets_say_why_they_log_nowhere(resources):
    buckets = _of_type(resources, "AWS::S3::Bucket")
    targets = {
        b[2]["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
        for b in buckets
        if "LoggingConfiguration" in b[2]["Properties"]
    }
    unlogged = [
        (template, logical, b) for template, logical, b in buckets if "LoggingConfiguration" not in b["Properties"]
    ]
    # Every environment's data lake and the delivery pipeline have one log bucket each.
    assert len(unlogged) >= 4
    for template, logical, bucket in unlogged:
        assert logical in targets, f"{template} {logical} logs nowhere and receives no logs"
        metadata = bucket["Metadata"]
        assert "to itself" in _reason(metadata, "checkov", "CKV_AWS_18"), f"{template} {logical}"
        assert "to itself" in _reason(metadata, "cfn_nag", "W35"), f"{template} {logical}"
