"""acknowledge_scanner: checkov and cfn_nag acknowledgements merged into a resource's metadata."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from infra.scanner_metadata import acknowledge_scanner


@pytest.fixture
def bucket(tmp_path) -> s3.CfnBucket:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Test")
    return s3.CfnBucket(stack, "Bucket")


def test_both_scanners_get_the_rule_and_reason_beside_other_metadata(bucket):
    bucket.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
    acknowledge_scanner(bucket, checkov="CKV_AWS_18", cfn_nag="W35", reason="first")
    acknowledge_scanner(bucket, checkov="CKV_AWS_21", reason="second")
    acknowledge_scanner(bucket, checkov="CKV_AWS_18", reason="replaced")
    assert bucket.get_metadata("cfn-lint") == {"config": {"ignore_checks": ["W3005"]}}
    assert bucket.get_metadata("checkov") == {
        "skip": [{"id": "CKV_AWS_21", "comment": "second"}, {"id": "CKV_AWS_18", "comment": "replaced"}]
    }
    assert bucket.get_metadata("cfn_nag") == {"rules_to_suppress": [{"id": "W35", "reason": "first"}]}


def test_a_rule_and_a_reason_are_required(bucket):
    with pytest.raises(ValueError, match="rule id"):
        acknowledge_scanner(bucket, reason="why")
    with pytest.raises(ValueError, match="reason"):
        acknowledge_scanner(bucket, checkov="CKV_AWS_18", reason=" ")
