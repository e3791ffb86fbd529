"""The training pipeline's image: the Hugging Face training DLC plus the pinned MLflow client,
built by CDK from containers/training, run by Train and the processing steps, pulled by the
pipeline's role from that one repository, and buildable by the delivery pipeline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from infra.config import ENVIRONMENT_NAMES
from infra.constructs.training_image import BASE_IMAGE_ARG, IMAGE_DIR
from infra.pipeline.images import image_uris_for
from infra.stacks.delivery_stack import DELIVERY_STACK_ID
from tests.infra.pipeline_templates import jobs, resolved_definition, step

DLC_REPOSITORY = "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-training"


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines if line and not line.startswith("#")
    ]


def test_the_dockerfile_builds_on_the_base_image_build_argument_only():
    instructions = _instructions(IMAGE_DIR / "Dockerfile")
    # No default: the build fails rather than fall back to some other base.
    assert instructions[:2] == [("ARG", BASE_IMAGE_ARG), ("FROM", f"${{{BASE_IMAGE_ARG}}}")]
    assert [kind for kind, _ in instructions].count("FROM") == 1


def test_the_dockerfile_installs_the_pinned_requirements_and_nothing_else():
    instructions = _instructions(IMAGE_DIR / "Dockerfile")
    (copy,) = [args for kind, args in instructions if kind == "COPY"]
    source, destination = copy.split()
    assert source == "requirements.txt"
    (run,) = [args for kind, args in instructions if kind == "RUN"]
    install = run.split("&&")[0].split()
    assert install[:2] == ["pip", "install"] and "--no-cache-dir" in install
    assert install[install.index("-r") + 1] == destination
    assert [token for token in install if not token.startswith("-")] == ["pip", "install", destination]
    pins = [line for line in (IMAGE_DIR / source).read_text().splitlines() if line and not line.startswith("#")]
    assert {pin.split("==")[0] for pin in pins} == {"mlflow-skinny", "sagemaker-mlflow"}
    assert all(re.fullmatch(r"[a-z-]+==\d+(\.\d+)+", pin) for pin in pins)


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_the_image_asset_builds_from_the_dlc_the_pipeline_ran_before(synthesized, stages, environment):
    _, assembly = synthesized
    stack = stages[environment].pipeline
    image = stack.training.image.asset
    manifest = json.loads((assembly / f"assembly-{environment}" / f"{stack.artifact_id}.assets.json").read_text())
    source = manifest["dockerImages"][image.asset_hash]["source"]
    assert source["dockerBuildArgs"] == {BASE_IMAGE_ARG: image_uris_for("us-east-1").training}
    assert "huggingface-pytorch-training" in source["dockerBuildArgs"][BASE_IMAGE_ARG]
    assert source["platform"] == "linux/amd64"
    staged = (assembly / f"assembly-{environment}" / source["directory"]).resolve()
    assert (staged / "Dockerfile").read_text() == (IMAGE_DIR / "Dockerfile").read_text()


def _image_expression(stages, templates, environment: str) -> tuple[dict, str]:
    """(the expression every job but Register runs as its image, the asset's tag)."""
    definition, expressions = resolved_definition(
        templates[environment, "pipeline"], f"roberta-sentiment-{environment}-training"
    )
    images = set()
    for arguments in jobs(definition).values():
        image = (
            arguments.get("AlgorithmSpecification", {}).get("TrainingImage")
            or arguments["AppSpecification"]["ImageUri"]
        )
        images.add(json.dumps(expressions.get(image, image)))
    (image,) = images
    # Register still names the inference DLC: the package serves in SageMaker's own image.
    (container,) = step(definition, "Register-RegisterModel")["Arguments"]["InferenceSpecification"]["Containers"]
    assert container["Image"] == image_uris_for("us-east-1").inference
    return json.loads(image), stages[environment].pipeline.training.image.asset.asset_hash


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_train_and_the_processing_steps_run_the_asset_image(stages, templates, environment):
    image, tag = _image_expression(stages, templates, environment)
    account = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}[environment]
    assert image == {
        "Fn::Sub": f"{account}.dkr.ecr.us-east-1.${{AWS::URLSuffix}}/cdk-hnb659fds-container-assets-{account}-us-east-1:{tag}"
    }


def _pull_resources(template: Template, role_description: str) -> list:
    (role,) = [
        logical
        for logical, r in template.find_resources("AWS::IAM::Role").items()
        if r["Properties"].get("Description") == role_description
    ]
    resources = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if "ecr:BatchGetImage" in actions:
                    found = statement["Resource"]
                    resources += found if isinstance(found, list) else [found]
    return resources


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_the_pipeline_role_pulls_from_the_image_repository_only(templates, environment):
    template = templates[environment, "pipeline"]
    account = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}[environment]
    resources = _pull_resources(
        template, f"Runs the roberta-sentiment-{environment}-training SageMaker pipeline and its jobs"
    )
    assert resources == [
        {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    f":ecr:us-east-1:{account}:repository/cdk-hnb659fds-container-assets-{account}-us-east-1",
                ],
            ]
        }
    ]


@pytest.fixture(scope="module")
def delivery(stages) -> Template:
    app = next(iter(stages.values())).node.scope
    return Template.from_stack(app.node.find_child(DELIVERY_STACK_ID))


def _buildspec_text(project: dict) -> str:
    spec = project["Properties"]["Source"]["BuildSpec"]
    return spec if isinstance(spec, str) else json.dumps(spec)


def test_asset_builds_log_in_to_the_dlc_registry_and_synth_does_not(delivery):
    projects = delivery.find_resources("AWS::CodeBuild::Project")
    docker = {logical: p for logical, p in projects.items() if "DockerAsset" in logical}
    assert docker
    for project in docker.values():
        text = _buildspec_text(project)
        assert "cdk-docker-creds.json" in text and "763104351884.dkr.ecr.us-east-1." in text
        assert "ecrRepository" in text
    (synth,) = [p for logical, p in projects.items() if "Synth" in logical and "CdkBuildProject" in logical]
    assert "cdk-docker-creds" not in _buildspec_text(synth)


def test_the_image_asset_role_may_pull_the_dlc_repository_only(delivery):
    policies = delivery.find_resources("AWS::IAM::Policy")
    (docker_policy,) = [p for logical, p in policies.items() if logical.startswith("PipelineAssetsDockerRole")]
    statements = docker_policy["Properties"]["PolicyDocument"]["Statement"]
    pulls = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
    assert [s["Resource"] for s in pulls] == [DLC_REPOSITORY]
    (login,) = [s for s in statements if s["Action"] == "ecr:GetAuthorizationToken"]
    assert login["Resource"] == "*"  # ECR scopes the login to no resource
