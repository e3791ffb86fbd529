"""BatchScoring on its own.

Props: ``config`` (batch pipeline name, batch instance type), ``buckets`` and
``bucket_names`` (input/output), ``key_arn``, ``model_package_group_name``, ``artifacts``
required; ``upstream_group_arns`` (default none: only this environment's group).
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.batch_scoring import INPUT_PREFIX, BatchScoring
from tests.infra.constructs.conftest import KEY_ARN, arn_tail, make_config, new_stack, resources_for

UPSTREAM = "arn:aws:sagemaker:us-east-1:210987654321:model-package-group/demo-dev-sentiment"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("batch"))
    config = make_config()
    batch = BatchScoring(
        stack,
        "Batch",
        config=config,
        buckets={"input": "arn:aws:s3:::in", "output": "arn:aws:s3:::out"},
        bucket_names={"input": "in", "output": "out"},
        key_arn=KEY_ARN,
        model_package_group_name="demo-test-sentiment",
        artifacts=ArtifactSource.of(config),
        upstream_group_arns=[UPSTREAM],
    )
    return batch, Template.from_stack(stack)


def test_pipeline_named_from_config_runs_as_its_role_after_its_policy(built):
    batch, template = built
    assert (
        arn_tail(cdk.Stack.of(batch).resolve(batch.pipeline_arn))
        == ":sagemaker:us-east-1:123456789012:pipeline/demo-test-batch-scoring"
    )
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline",
        {"PipelineName": "demo-test-batch-scoring", "RoleArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]}},
    )
    [resource] = template.find_resources("AWS::SageMaker::Pipeline").values()
    assert set(resource["DependsOn"]) & set(template.find_resources("AWS::IAM::Policy"))


def test_definition_defaults_to_the_given_input_and_output(built):
    _, template = built
    [resource] = template.find_resources("AWS::SageMaker::Pipeline").values()
    text = json.dumps(resource["Properties"]["PipelineDefinition"])
    for expected in (f"s3://in/{INPUT_PREFIX}/", "s3://out/demo-test-batch-scoring", KEY_ARN):
        assert expected in text, expected


def test_scores_packages_of_its_own_and_the_upstream_group(built):
    _, template = built
    assert [arn_tail(a) for a in resources_for(template, "sagemaker:DescribeModelPackage")] == [
        ":sagemaker:us-east-1:123456789012:model-package/demo-test-sentiment/*",
        UPSTREAM.replace("model-package-group/", "model-package/") + "/*",
    ]
    assert resources_for(template, "s3:PutObject") == ["arn:aws:s3:::out/demo-test-batch-scoring/*"]
