"""TrainingPipeline on its own.

Props (all required): ``config`` (EnvironmentConfig: names, region, pipeline knobs, the
monitoring engine), ``buckets`` (raw/features/models -> ARN), ``bucket_names``, ``key_arn``,
``feature_group_name``, ``model_package_group_name``. The pipeline runs as its own role,
created after the role's policy, with ml_code staged as an asset (nothing uploaded at synth).
"""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.training_pipeline import TrainingPipeline
from infra.pipeline.images import analyzer_image_uri, repository_of
from tests.infra.constructs.conftest import KEY_ARN, arn_tail, make_config, new_stack, resources_for

BUCKETS = {name: f"arn:aws:s3:::demo-{name}" for name in ("raw", "features", "models")}
NAMES = {name: f"demo-{name}" for name in ("raw", "features", "models")}


def build(stack, config):
    pipeline = TrainingPipeline(
        stack,
        "Training",
        config=config,
        buckets=BUCKETS,
        bucket_names=NAMES,
        key_arn=KEY_ARN,
        feature_group_name="demo-test-reviews",
        model_package_group_name="demo-test-sentiment",
    )
    return pipeline, Template.from_stack(stack)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(new_stack(tmp_path_factory.mktemp("training")), make_config())


def test_pipeline_named_from_config_runs_as_its_role_after_its_policy(built):
    pipeline, template = built
    assert pipeline.pipeline_name == "demo-test-training"
    assert (
        arn_tail(cdk.Stack.of(pipeline).resolve(pipeline.pipeline_arn))
        == ":sagemaker:us-east-1:123456789012:pipeline/demo-test-training"
    )
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline",
        {"PipelineName": "demo-test-training", "RoleArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]}},
    )
    [resource] = template.find_resources("AWS::SageMaker::Pipeline").values()
    assert set(resource["DependsOn"]) & set(template.find_resources("AWS::IAM::Policy"))


def test_definition_uses_the_given_buckets_key_and_names(built):
    _, template = built
    [resource] = template.find_resources("AWS::SageMaker::Pipeline").values()
    text = json.dumps(resource["Properties"]["PipelineDefinition"])
    for expected in (
        "s3://demo-raw/womens-clothing-reviews/",
        "s3://demo-models",
        "demo-features",
        KEY_ARN,
        "demo-test-sentiment",
        "demo-test-reviews",
    ):
        assert expected in text, expected


def test_code_is_an_asset_the_role_reads(built):
    pipeline, template = built
    code = cdk.Stack.of(pipeline).resolve(pipeline.code.bucket.arn_for_objects(pipeline.code.s3_object_key))
    assert code in resources_for(template, "s3:GetObject")


def test_the_model_monitor_engine_adds_the_analyzer_image(tmp_path):
    _, template = build(new_stack(tmp_path), make_config(monitoring={"engine": "model_monitor"}))
    account, repository = repository_of(analyzer_image_uri("us-east-1"))
    assert f":ecr:us-east-1:{account}:repository/{repository}" in [
        arn_tail(a) for a in resources_for(template, "ecr:BatchGetImage")
    ]


def test_the_default_engine_pulls_no_analyzer(built):
    _, template = built
    account, repository = repository_of(analyzer_image_uri("us-east-1"))
    assert f":ecr:us-east-1:{account}:repository/{repository}" not in [
        arn_tail(a) for a in resources_for(template, "ecr:BatchGetImage")
    ]
