"""What the deployed pipeline definitions tell their jobs about MLflow, and how Register and
LinkRun tie a model package to its runs (ml_code/tracking is the job side of this contract)."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Template

from infra.config import ENVIRONMENT_NAMES
from ml_code.tracking.names import (
    CODE_VERSION_ENV,
    EXECUTION_ID_ENV,
    EXPERIMENT_ENV,
    STEP_NAME_ENV,
    TRACKING_URI_ENV,
)
from tests.infra.pipeline_templates import jobs, resolved_definition, step

TRACKING_URI = {"Get": "Parameters.TrackingUri"}
EXECUTION_ID = {"Get": "Execution.PipelineExecutionId"}
MODEL_ARTIFACT = {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
EVALUATION_REPORT = {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}
REGISTER = "Register-RegisterModel"


def _run_id(path: str) -> dict:
    return {"Std:JsonGet": {"PropertyFile": EVALUATION_REPORT, "Path": path}}


def _app_import(environment: str) -> dict:
    return {"Fn::ImportValue": f"roberta-sentiment-{environment}-data-mlflow-app-arn"}


def _tracking_default(definition: dict, expressions: dict) -> object:
    (parameter,) = [p for p in definition["Parameters"] if p["Name"] == "TrackingUri"]
    assert parameter["Type"] == "String"
    default = parameter["DefaultValue"]
    return expressions.get(default, default)


def _data_uris(environment: dict) -> dict:
    return {k: v for k, v in environment.items() if k.startswith("DATA_URI_")}


def _expected_data_uris(name: str, arguments: dict) -> dict:
    """DATA_URI_<NAME> for each input the job reads: processing inputs but the code archive,
    training channels; LinkRun reads no data input but records the model it links."""
    if name == "LinkRun":
        return {"DATA_URI_MODEL": MODEL_ARTIFACT}
    if "InputDataConfig" in arguments:
        return {
            f"DATA_URI_{c['ChannelName'].upper()}": c["DataSource"]["S3DataSource"]["S3Uri"]
            for c in arguments["InputDataConfig"]
        }
    return {
        f"DATA_URI_{i['InputName'].upper()}": i["S3Input"]["S3Uri"]
        for i in arguments["ProcessingInputs"]
        if i["InputName"] != "code"
    }


def _check_tracking_variables(definition: dict, pipeline_name: str, expected_data: dict | None = None) -> set[str]:
    """Asserts the five variables and the data URIs on every job; returns the job names."""
    found = jobs(definition)
    versions = set()
    for name, arguments in found.items():
        environment = arguments["Environment"]
        assert environment[TRACKING_URI_ENV] == TRACKING_URI, name
        assert environment[EXPERIMENT_ENV] == pipeline_name, name
        assert environment[EXECUTION_ID_ENV] == EXECUTION_ID, name
        assert environment[STEP_NAME_ENV] == name, name
        assert re.fullmatch(r"[0-9a-f]{64}", environment[CODE_VERSION_ENV]), name
        versions.add(environment[CODE_VERSION_ENV])
        expected = expected_data if expected_data is not None else _expected_data_uris(name, arguments)
        assert expected and _data_uris(environment) == expected, name
        # The version is the code archive the job runs: its S3 object is named after it.
        code = [i["S3Input"]["S3Uri"] for i in arguments.get("ProcessingInputs", []) if i["InputName"] == "code"]
        submit = arguments.get("HyperParameters", {}).get("sagemaker_submit_directory")  # JSON-encoded
        uris = code + ([json.loads(submit)] if submit else [])
        assert uris and all(uri.endswith(f"/{environment[CODE_VERSION_ENV]}.gz") for uri in uris), name
    assert len(versions) == 1
    return set(found)


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_every_training_job_gets_the_tracking_variables_and_its_data_uris(templates, environment):
    name = f"roberta-sentiment-{environment}-training"
    definition, _ = resolved_definition(templates[environment, "pipeline"], name)
    assert _check_tracking_variables(definition, name) == {
        "Preprocess",
        "Train",
        "Evaluate",
        "BaselineFeatures",
        "LinkRun",
    }
    preprocess, train = (jobs(definition)[n]["Environment"] for n in ("Preprocess", "Train"))
    assert preprocess["DATA_URI_DATA"] == {"Get": "Parameters.InputDataUri"}
    # Where the base model is staged in S3 (staging, prod), it is data the run read too.
    staged = environment != "dev"
    assert ("DATA_URI_TOKENIZER" in preprocess) is staged and ("DATA_URI_MODEL" in train) is staged


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_the_monitor_job_gets_the_tracking_variables_and_what_it_reads(templates, environment):
    name = f"roberta-sentiment-{environment}-monitor"
    definition, _ = resolved_definition(templates[environment, "serving"], name)
    reads = {
        "DATA_URI_CAPTURE": {"Get": "Parameters.CaptureUri"},
        "DATA_URI_GROUND_TRUTH": {"Get": "Parameters.GroundTruthUri"},
    }
    assert _check_tracking_variables(definition, name, reads) == {"DriftMonitor"}


def test_the_comparison_job_gets_the_tracking_variables_and_what_it_reads(challenger_untracked_dev):
    stages, _ = challenger_untracked_dev
    name = "roberta-sentiment-prod-compare"
    definition, expressions = resolved_definition(Template.from_stack(stages["prod"].serving), name)
    reads = {
        "DATA_URI_CAPTURE": {"Get": "Parameters.CaptureUri"},
        "DATA_URI_GROUND_TRUTH": {"Get": "Parameters.GroundTruthUri"},
    }
    assert _check_tracking_variables(definition, name, reads) == {"CompareVariants"}
    assert _tracking_default(definition, expressions) == _app_import("prod")


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_tracking_uri_defaults_to_the_environments_mlflow_app(templates, environment):
    for kind, pipeline in (("pipeline", "training"), ("serving", "monitor")):
        definition, expressions = resolved_definition(
            templates[environment, kind], f"roberta-sentiment-{environment}-{pipeline}"
        )
        assert _tracking_default(definition, expressions) == _app_import(environment), pipeline


def test_tracking_uri_defaults_to_none_where_tracking_is_off(challenger_untracked_dev):
    stages, _ = challenger_untracked_dev
    for kind, pipeline in (("pipeline", "training"), ("serving", "monitor")):
        template = Template.from_stack(getattr(stages["dev"], kind))
        definition, expressions = resolved_definition(template, f"roberta-sentiment-dev-{pipeline}")
        assert _tracking_default(definition, expressions) == "none", pipeline


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_register_records_the_training_run_and_the_tracking_uri_with_the_package(templates, environment):
    definition, _ = resolved_definition(templates[environment, "pipeline"], f"roberta-sentiment-{environment}-training")
    metadata = step(definition, REGISTER)["Arguments"]["CustomerMetadataProperties"]
    assert metadata["MlflowRunId"] == _run_id("tracking.training_run_id")
    assert metadata["MlflowTrackingUri"] == TRACKING_URI
    # Beside what was there before: the package's monitoring reference.
    assert metadata["MonitoringReferenceUri"] == {
        "Get": "Steps.BaselineFeatures.ProcessingOutputConfig.Outputs['reference'].S3Output.S3Uri"
    }
    # The JsonGet reads the evaluation report the gate reads: Evaluate's evaluation.json.
    (report,) = step(definition, "Evaluate")["PropertyFiles"]
    assert report == {"PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": "evaluation.json"}


@pytest.mark.parametrize("environment", ENVIRONMENT_NAMES)
def test_link_run_tags_both_runs_with_the_package_register_created(templates, cdk_context, environment):
    definition, _ = resolved_definition(templates[environment, "pipeline"], f"roberta-sentiment-{environment}-training")
    link = step(definition, "LinkRun")
    assert link["DependsOn"] == [REGISTER]
    assert "CacheConfig" not in link  # each registration is a new package to link
    app = link["Arguments"]["AppSpecification"]
    assert "ml_code/link_run.py" in app["ContainerEntrypoint"][2]
    assert app["ContainerArguments"] == [
        "--model-package-arn",
        {"Get": f"Steps.{REGISTER}.ModelPackageArn"},
        "--model-data-uri",
        MODEL_ARTIFACT,
        "--run-id",
        _run_id("tracking.training_run_id"),
        "--run-id",
        _run_id("tracking.evaluation_run_id"),
    ]
    cluster = link["Arguments"]["ProcessingResources"]["ClusterConfig"]
    # The environment's small processing type (its monitoring jobs'): LinkRun makes a few API calls.
    small = cdk_context["mlops"]["environments"][environment]["monitoring"]["instance_type"]
    assert cluster["InstanceCount"] == 1 and cluster["InstanceType"] == small


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_evaluate_reaches_mlflow_from_the_private_subnets_where_tracked(templates, environment):
    definition, _ = resolved_definition(templates[environment, "pipeline"], f"roberta-sentiment-{environment}-training")
    assert step(definition, "Evaluate")["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is False
    assert step(definition, "BaselineFeatures")["Arguments"]["NetworkConfig"]["EnableNetworkIsolation"] is True
