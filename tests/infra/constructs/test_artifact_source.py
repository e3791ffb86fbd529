"""ArtifactSource on its own.

Fields (all required): ``account``, ``region``, ``bucket_name``, ``key_alias`` (or
``ArtifactSource.of(config)``). ``grant_read(role, prefixes)``: GetObject under the
prefixes only; Decrypt on the source account's keys only where the key has the alias.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from infra.constructs.artifact_source import ArtifactSource
from tests.infra.constructs.conftest import assert_least_privilege, make_config, resources_for, statements


def test_of_config_names_the_fixed_bucket_and_alias():
    config = make_config()
    source = ArtifactSource.of(config)
    assert source == ArtifactSource(
        "123456789012", "us-east-1", "demo-test-models-123456789012", "alias/demo-test-data-lake"
    )


def test_grant_read_is_limited_to_the_prefixes_and_the_aliased_key(stack):
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    ArtifactSource("210987654321", "eu-west-1", "src-models", "alias/src-lake").grant_read(
        role, ["training", "baselines"]
    )
    template = Template.from_stack(stack)
    assert_least_privilege(template)
    objects = resources_for(template, "s3:GetObject")
    assert [o["Fn::Join"][1][-1] for o in objects] == [":s3:::src-models/training/*", ":s3:::src-models/baselines/*"]
    [decrypt] = [s for s in statements(template) if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"]["Fn::Join"][1][-1] == ":kms:eu-west-1:210987654321:key/*"
    assert decrypt["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/src-lake"}}
