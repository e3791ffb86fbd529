"""AthenaWorkgroup on its own.

Props (all required): ``name``, ``results_bucket``, ``key``, ``bytes_scanned_cutoff``
(Athena's minimum is 10 MB: less raises ValueError), ``destroy_with_stack``. Secure
defaults: results SSE-KMS under ``results/``, enforced over client settings, engine v3.
"""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match, Template

from infra.constructs.athena_workgroup import AthenaWorkgroup
from tests.infra.constructs.conftest import bucket, lake_key

MB = 1024 * 1024


def build(stack, cutoff=50 * MB, destroy=False) -> AthenaWorkgroup:
    key = lake_key(stack)
    return AthenaWorkgroup(
        stack,
        "Athena",
        name="demo-test",
        results_bucket=bucket(stack, key=key),
        key=key,
        bytes_scanned_cutoff=cutoff,
        destroy_with_stack=destroy,
    )


def test_results_are_kms_encrypted_and_settings_enforced(stack):
    build(stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": "demo-test",
            "State": "ENABLED",
            "RecursiveDeleteOption": False,
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                "BytesScannedCutoffPerQuery": 50 * MB,
                "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                "ResultConfiguration": {
                    "OutputLocation": {"Fn::Join": ["", ["s3://", Match.any_value(), "/results/"]]},
                    "EncryptionConfiguration": {
                        "EncryptionOption": "SSE_KMS",
                        "KmsKey": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
                    },
                },
            },
        },
    )


def test_destroy_with_stack_deletes_saved_queries_too(stack):
    build(stack, destroy=True)
    Template.from_stack(stack).has_resource_properties("AWS::Athena::WorkGroup", {"RecursiveDeleteOption": True})


def test_named_queries_run_in_the_workgroup(stack):
    athena = build(stack)
    athena.add_query("top-categories", database="demo_test", description="d", sql="SELECT 1")
    template, workgroup = Template.from_stack(stack), Capture()
    template.has_resource_properties(
        "AWS::Athena::NamedQuery",
        {
            "Name": "top-categories",
            "Database": "demo_test",
            "QueryString": "SELECT 1",
            "WorkGroup": {"Ref": workgroup},
        },
    )
    assert workgroup.as_string() in template.find_resources("AWS::Athena::WorkGroup")


@pytest.mark.parametrize("cutoff", [0, 10 * MB - 1])
def test_a_cutoff_below_athenas_minimum_raises(stack, cutoff):
    with pytest.raises(ValueError, match="bytes_scanned_cutoff"):
        build(stack, cutoff=cutoff)
