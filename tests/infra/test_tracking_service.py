"""The managed MLflow tracking service in the synthesized app: one MLflow App per environment
in its data stack, and logging rights for exactly the roles whose jobs log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from infra.config import ENVIRONMENT_NAMES

LOGGING = "sagemaker:CallMlflowAppApi"


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _logging_grants(templates: list[dict]) -> dict[str, list]:
    """Role description -> the resources of its statements allowing CallMlflowAppApi, over ``templates``."""
    found: dict[str, list] = {}
    for template in templates:
        resources = template["Resources"]
        for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
            granted = [
                resource
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]
                if LOGGING in _as_list(statement["Action"])
                for resource in _as_list(statement["Resource"])
            ]
            for role in policy["Properties"]["Roles"] if granted else []:
                description = resources[role["Ref"]]["Properties"]["Description"]
                found.setdefault(description, []).extend(granted)
    return found


def _environment_templates(assembly: Path, environment: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(assembly.glob(f"assembly-{environment}/*.template.json"))]


def _app_export(data: Template, prefix: str) -> str:
    """The fixed export name of the App's ARN, checked to export that App's Arn attribute."""
    (app_id,) = data.find_resources("AWS::SageMaker::MlflowApp")
    name = f"{prefix}-data-mlflow-app-arn"
    exports = data.find_outputs("*", {"Export": {"Name": name}})
    assert [o["Value"] for o in exports.values()] == [{"Fn::GetAtt": [app_id, "Arn"]}]
    return name


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_each_environment_has_one_mlflow_app_in_its_data_stack(stages, templates, environment):
    assert stages[environment].data.tracking is not None
    prefix = f"roberta-sentiment-{environment}"
    data = templates[environment, "data"]
    data.resource_count_is("AWS::SageMaker::MlflowApp", 1)
    (app,) = data.find_resources("AWS::SageMaker::MlflowApp").values()
    account = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}[environment]
    assert app["Properties"]["Name"] == prefix
    assert app["Properties"]["ArtifactStoreUri"] == f"s3://{prefix}-models-{account}/mlflow/"
    assert app["Properties"]["ModelRegistrationMode"] == "AutoModelRegistrationDisabled"
    # dev may be torn down whole; staging's and prod's runs are kept.
    assert app["DeletionPolicy"] == ("Delete" if environment == "dev" else "Retain")
    for kind in ("analytics", "pipeline", "serving"):
        templates[environment, kind].resource_count_is("AWS::SageMaker::MlflowApp", 0)


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_only_the_logging_jobs_roles_may_call_the_app_and_only_this_app(synthesized, templates, environment):
    _, assembly = synthesized
    prefix = f"roberta-sentiment-{environment}"
    export = _app_export(templates[environment, "data"], prefix)
    grants = _logging_grants(_environment_templates(assembly, environment))
    # No challenger in the shipped config: no comparison job yet (see the next test).
    assert set(grants) == {
        f"Runs the {prefix}-training SageMaker pipeline and its jobs",
        f"Runs the {prefix}-monitor SageMaker pipeline and its job",
    }
    assert all(resources == [{"Fn::ImportValue": export}] for resources in grants.values())
    # The delivery pipeline's roles log nothing either.
    delivery = [json.loads(p.read_text()) for p in assembly.glob("*.template.json")]
    assert _logging_grants(delivery) == {}


def test_the_comparison_job_logs_too_where_a_challenger_runs(challenger_untracked_dev):
    _, assembly = challenger_untracked_dev
    prefix = "roberta-sentiment-prod"
    grants = _logging_grants(_environment_templates(assembly, "prod"))
    assert set(grants) == {
        f"Runs the {prefix}-training SageMaker pipeline and its jobs",
        f"Runs the {prefix}-monitor SageMaker pipeline and its job",
        f"Runs the {prefix}-compare SageMaker pipeline and its job",
    }
    assert all(resources == [{"Fn::ImportValue": f"{prefix}-data-mlflow-app-arn"}] for resources in grants.values())


def test_tracking_off_creates_no_app_and_grants_nothing(challenger_untracked_dev):
    stages, assembly = challenger_untracked_dev
    dev = stages["dev"]
    assert dev.data.tracking is None and dev.data.tracking_uri == ""
    Template.from_stack(dev.data).resource_count_is("AWS::SageMaker::MlflowApp", 0)
    assert _logging_grants(_environment_templates(assembly, "dev")) == {}
    assert (
        Template.from_stack(dev.data).find_outputs(
            "*", {"Export": {"Name": "roberta-sentiment-dev-data-mlflow-app-arn"}}
        )
        == {}
    )


def _pipeline_definitions(template: Template) -> list[str]:
    return [
        json.dumps(p["Properties"]["PipelineDefinition"])
        for p in template.find_resources("AWS::SageMaker::Pipeline").values()
    ]


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_pipelines_that_log_default_their_tracking_uri_to_the_app(templates, environment):
    import_value = json.dumps({"Fn::ImportValue": f"roberta-sentiment-{environment}-data-mlflow-app-arn"})
    # The training pipeline and the monitor pipeline (a batch scoring pipeline logs nothing).
    training = _pipeline_definitions(templates[environment, "pipeline"])
    monitor = _pipeline_definitions(templates[environment, "serving"])
    assert sum(import_value in d for d in training) == 1
    assert [import_value in d for d in monitor] == [True]


def test_pipelines_get_no_tracking_uri_where_tracking_is_off(challenger_untracked_dev):
    stages, _ = challenger_untracked_dev
    for kind in ("pipeline", "serving"):
        definitions = _pipeline_definitions(Template.from_stack(getattr(stages["dev"], kind)))
        assert definitions and not any("mlflow-app-arn" in d for d in definitions)
    compare = [d for d in _pipeline_definitions(Template.from_stack(stages["prod"].serving)) if "-compare" in d]
    assert compare and all("roberta-sentiment-prod-data-mlflow-app-arn" in d for d in compare)
