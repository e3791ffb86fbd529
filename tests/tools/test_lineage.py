"""tools.lineage on a real local MLflow store (SQLite) and a local registry written by
local_runner.registry, and on AWS with SageMaker and CloudTrail stubbed."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from local_runner.registry import LocalRegistry
from ml_code.tracking.names import (
    CODE_VERSION_TAG,
    EXECUTION_ID_TAG,
    HEALTH_TAG,
    MODEL_ARTIFACT_TAG,
    MODEL_PACKAGE_TAG,
    STEP_TAG,
)
from tests.conftest import ROOT
from tools.lineage import main

REGION, ACCOUNT = "us-east-1", "111111111111"
GROUP = "roberta-sentiment-dev-sentiment"
EXECUTION = "local-exec-1"
CODE = "sha256-0123abcd"
DATA = {
    "data.train": "s3://lake/processed/train/",
    "data.validation": "s3://lake/processed/validation/",
}
PARAMS = {"epochs": "3", "learning_rate": "0.002", "max_seq_length": "64"}
ARTIFACT = "s3://models/train/output/model.tar.gz"
LOSSES = [1.1, 0.9, 0.7]
EVALUATION = {"accuracy": 0.61, "macro_f1": 0.58}
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def fast_failing_http(monkeypatch):
    # MLflow's REST client retries a refused connection for minutes by default.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")


def log_runs(uri: str) -> tuple[str, str, str]:
    """Preprocess, Train and Evaluate runs of one execution, as ml_code/tracking logs them:
    (experiment id, training run id, evaluation run id)."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("roberta-sentiment-dev-training")
    common = {EXECUTION_ID_TAG: EXECUTION, CODE_VERSION_TAG: CODE}
    preprocess = client.create_run(experiment, tags={**common, STEP_TAG: "Preprocess"}, start_time=1000)
    client.log_batch(preprocess.info.run_id, params=[Param("data.raw", "s3://raw/reviews/2026/")])
    client.set_terminated(preprocess.info.run_id)

    train = client.create_run(experiment, tags={**common, STEP_TAG: "Train"}, start_time=2000)
    train_id = train.info.run_id
    curve = [Metric("loss", value, 2000 + step, step) for step, value in enumerate(LOSSES, start=1)]
    params = [Param(k, v) for k, v in {**PARAMS, **DATA}.items()]
    best = Metric("best_validation_accuracy", 0.6, 3000, len(LOSSES))
    client.log_batch(train_id, metrics=[*curve, best], params=params)
    client.set_tag(train_id, HEALTH_TAG, "ok")
    client.set_terminated(train_id)

    evaluate = client.create_run(
        experiment, tags={**common, STEP_TAG: "Evaluate", "training_run_id": train_id}, start_time=4000
    )
    client.log_batch(evaluate.info.run_id, metrics=[Metric(k, v, 4000, 0) for k, v in EVALUATION.items()])
    client.set_terminated(evaluate.info.run_id)
    return experiment, train_id, evaluate.info.run_id


def register(registry: LocalRegistry, root: Path, run_id: str, tracking_uri: str, group: str = GROUP) -> dict:
    package = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": "PendingManualApproval",
        "InferenceSpecification": {"Containers": [{"Image": "hf-inference", "ModelDataUrl": ARTIFACT}]},
        "CustomerMetadataProperties": {"MlflowRunId": run_id, "MlflowTrackingUri": tracking_uri},
        "MetadataProperties": {"GeneratedBy": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/p/execution/{EXECUTION}"},
        "Metrics": {"multiclass_classification_metrics.accuracy.value": 0.61},
        "Local": {"RunFolder": str(root / "runs" / EXECUTION), "PipelineExecutionId": EXECUTION},
    }
    return registry.register(package, {}, REGION, ACCOUNT)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """A local runner root: registry/ with version 1 (tracked, linked, approved) and version 2
    (tracking off), mlflow.db with the runs of version 1's execution."""
    from mlflow.tracking import MlflowClient

    root = tmp_path_factory.mktemp("demo")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    experiment, train_id, evaluation_id = log_runs(uri)
    (root / "runs" / EXECUTION).mkdir(parents=True)
    (root / "runs" / EXECUTION / "run.json").write_text(json.dumps({"parameters": {"MinAccuracy": "0.4"}}))
    registry = LocalRegistry(root / "registry")
    # Recorded relative to another working folder: the tool falls back to <root>/mlflow.db.
    first = register(registry, root, train_id, "sqlite:///elsewhere/mlflow.db")
    registry.set_status(GROUP, 1, "Approved", "good enough", by="tester")
    register(registry, root, "none", "none")
    client = MlflowClient(tracking_uri=uri)
    for run_id in (train_id, evaluation_id):  # as LinkRun does
        client.set_tag(run_id, MODEL_PACKAGE_TAG, first["ModelPackageArn"])
    client.set_tag(train_id, MODEL_ARTIFACT_TAG, ARTIFACT)
    return {"root": root, "uri": uri, "arn": first["ModelPackageArn"], "train": train_id, "evaluation": evaluation_id}


def lineage(capsys, *argv: str, clients=None) -> tuple[int, str, str]:
    code = main(list(argv), clients=clients)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_local_report_holds_data_code_params_metrics_approval_and_link(demo, capsys):
    code, out, err = lineage(capsys, "--local-root", str(demo["root"]), "--version", "1")
    assert code == 0, err
    assert f"model package {GROUP} version 1" in out and demo["arn"] in out
    assert 'status       Approved "good enough"' in out and "Approved by tester: good enough" in out
    assert f"tracking     run {demo['train']}" in out and f"at {demo['uri']}" in out
    assert "the training run names this package back" in out and f"artifact   {ARTIFACT}" in out
    assert "Preprocess   raw = s3://raw/reviews/2026/" in out
    for name, uri in DATA.items():
        assert f"Train        {name.removeprefix('data.')} = {uri}" in out
    assert f"code         version {CODE}" in out
    assert "learning_rate" in out and "0.002" in out
    loss = next(line for line in out.splitlines() if line.strip().startswith("loss"))
    assert "0.7 at step 3 (3 points, min 0.7, max 1.1)" in loss
    assert "best validation accuracy 0.6" in out
    assert f"evaluation (run {demo['evaluation']})" in out and "macro_f1" in out and "0.58" in out
    assert "MinAccuracy" in out and "health       ok" in out
    assert "not deployed (local registry)" in out and "newest Approved, is this version" in out


def test_local_json_is_one_document_with_the_same_facts(demo, capsys):
    code, out, _ = lineage(capsys, "--local-root", str(demo["root"]), "--package-arn", demo["arn"], "--json")
    assert code == 0
    facts = json.loads(out)
    assert facts["package"]["version"] == 1 and facts["approval"]["status"] == "Approved"
    tracking = facts["tracking"]
    assert tracking["state"] == "ok" and tracking["run_id"] == demo["train"] and tracking["uri"] == demo["uri"]
    assert tracking["data"]["Train"] == {k.removeprefix("data."): v for k, v in DATA.items()}
    assert tracking["code"] == {"version": CODE, "by_step": {"Preprocess": CODE, "Train": CODE, "Evaluate": CODE}}
    assert tracking["parameters"] == PARAMS
    assert tracking["metrics"]["training"]["loss"]["points"] == len(LOSSES)
    assert tracking["metrics"]["best_validation_accuracy"] == 0.6
    assert tracking["metrics"]["evaluation"] == EVALUATION
    assert tracking["link"] == {"model_package_arn": demo["arn"], "model_artifact_uri": ARTIFACT, "matches": True}
    assert facts["serving"]["deployed"] is False


def test_a_package_without_a_run_id_is_found_through_the_runs_tagged_with_its_arn(demo, capsys, tmp_path):
    # A registry elsewhere whose version 1 has demo's ARN (same group, region, account) but records no run.
    registry = LocalRegistry(tmp_path / "registry")
    assert register(registry, tmp_path, "", "")["ModelPackageArn"] == demo["arn"]
    code, out, _ = lineage(capsys, "--local-root", str(tmp_path), "--tracking-uri", demo["uri"], "--json")
    assert code == 0
    tracking = json.loads(out)["tracking"]
    assert tracking["state"] == "ok" and tracking["run_id"] == demo["train"]  # not the tagged evaluation run
    assert tracking["metrics"]["evaluation_run_ids"] == [demo["evaluation"]]

    renamed = register(LocalRegistry(tmp_path / "renamed" / "registry"), tmp_path, "", "", group="another-group")
    code, out, _ = lineage(capsys, "--local-root", str(tmp_path / "renamed"), "--tracking-uri", demo["uri"])
    assert code == 0
    assert f"no run is tagged {MODEL_PACKAGE_TAG}={renamed['ModelPackageArn']}" in out


def test_unreachable_tracking_still_prints_the_registry_facts_and_one_line_why(demo, capsys):
    code, out, err = lineage(capsys, "--local-root", str(demo["root"]), "--version", "1", "--tracking-uri", UNREACHABLE)
    assert code == 0, err
    assert demo["arn"] in out and "status       Approved" in out and ARTIFACT in out
    assert "multiclass_classification_metrics.accuracy.value" in out  # the registry's metrics
    why = [line for line in out.splitlines() if "could not read" in line]
    assert len(why) == 1 and f"MLflow run {demo['train']} at {UNREACHABLE}" in why[0] and "unreachable" in why[0]
    assert "code         version" not in out and "parameters   (training run)" not in out
    assert main(["--local-root", str(demo["root"]), "--tracking-uri", UNREACHABLE, "--require-tracking"]) == 1


def test_newest_version_by_default_and_tracking_off_says_so(demo, capsys):
    code, out, _ = lineage(capsys, "--local-root", str(demo["root"]))
    assert code == 0
    assert f"model package {GROUP} version 2" in out and "PendingManualApproval" in out
    assert "tracking     none: tracking was off for this package" in out
    assert "newest Approved, is version 1" in out


def test_unknown_version_and_missing_registry_exit_2_with_a_clear_message(demo, capsys, tmp_path):
    code, out, err = lineage(capsys, "--local-root", str(demo["root"]), "--version", "7")
    assert code == 2 and out == ""
    assert f"error: group '{GROUP}' has no version 7 (versions: 1, 2)" in err
    code, _, err = lineage(capsys, "--local-root", str(tmp_path))
    assert code == 2 and f"no registry under {tmp_path}" in err
    code, _, err = lineage(capsys, "--local-root", str(demo["root"]), "--package-arn", demo["arn"] + "9")
    assert code == 2 and "no version with ARN" in err


def test_usage_errors_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--env", "dev", "--version", "1"])
    assert exit_info.value.code == 2 and "--group and --version are for --local-root" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "data, code, parameters, metrics, approval and where it serves" in capsys.readouterr().out


# AWS: the dev environment of cdk.json, SageMaker and CloudTrail stubbed, tracking unreachable.
NOW = datetime.datetime(2026, 11, 2, tzinfo=datetime.UTC)
AWS_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/4"
OTHER_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/3"
PIPELINE_EXECUTION = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/roberta-sentiment-dev-training/execution/abc123"
ENDPOINT = "roberta-sentiment-dev-sentiment"


def stub_aws(aws, served: str, approved: bool) -> None:
    sm = aws.stub("sagemaker")
    listing = {"ModelPackageGroupName": GROUP, "SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 1}
    sm.add_response(
        "list_model_packages",
        {
            "ModelPackageSummaryList": [
                {"ModelPackageArn": AWS_ARN, "CreationTime": NOW, "ModelPackageStatus": "Completed"}
            ]
        },
        {**listing, "ModelApprovalStatus": "Approved"} if approved else listing,
    )
    package = {
        "ModelPackageName": GROUP,
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 4,
        "ModelPackageArn": AWS_ARN,
        "CreationTime": NOW,
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "ModelApprovalStatus": "Approved",
        "InferenceSpecification": {
            "Containers": [{"Image": "hf-inference", "ModelDataUrl": ARTIFACT}],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        "MetadataProperties": {"GeneratedBy": PIPELINE_EXECUTION},
        "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://m/e.json"}}},
        "CustomerMetadataProperties": {"MlflowRunId": "0123456789abcdef", "MlflowTrackingUri": UNREACHABLE},
    }
    sm.add_response("describe_model_package", package, {"ModelPackageName": AWS_ARN})
    event = {
        "eventTime": "2026-11-03T10:00:00Z",
        "userIdentity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/approver/alice"},
        "requestParameters": {"modelPackageArn": AWS_ARN, "modelApprovalStatus": "Approved"},
    }
    aws.stub("cloudtrail").add_response(
        "lookup_events", {"Events": [{"EventName": "UpdateModelPackage", "CloudTrailEvent": json.dumps(event)}]}
    )
    sm.add_response(
        "list_pipeline_parameters_for_execution",
        {"PipelineParameters": [{"Name": "MinAccuracy", "Value": "0.6"}]},
        {"PipelineExecutionArn": PIPELINE_EXECUTION},
    )
    sm.add_response(
        "describe_endpoint",
        {
            "EndpointName": ENDPOINT,
            "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
            "EndpointConfigName": "config-1",
            "EndpointStatus": "InService",
            "ProductionVariants": [{"VariantName": "AllTraffic", "CurrentWeight": 1.0}],
            "CreationTime": NOW,
            "LastModifiedTime": NOW,
        },
        {"EndpointName": ENDPOINT},
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "m1",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.g5.xlarge",
    }
    sm.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": "config-1",
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/config-1",
            "ProductionVariants": [{**variant, "InitialVariantWeight": 1.0}],
            "CreationTime": NOW,
        },
        {"EndpointConfigName": "config-1"},
    )
    sm.add_response(
        "describe_model",
        {
            "ModelName": "m1",
            "ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/m1",
            "CreationTime": NOW,
            "Containers": [{"ModelPackageName": served}],
        },
        {"ModelName": "m1"},
    )


@pytest.mark.parametrize(("served", "approved"), [(AWS_ARN, False), (OTHER_ARN, True)])
def test_aws_lineage_from_the_registry_cloudtrail_and_the_endpoint(aws, capsys, served, approved):
    stub_aws(aws, served, approved)
    pick = ["--latest-approved"] if approved else []
    code, out, err = lineage(capsys, "--env", "dev", *pick, "--cdk-json", str(ROOT / "cdk.json"), clients=aws)
    assert code == 0, err
    assert f"model package {GROUP} version 4 (SageMaker Model Registry ({REGION}, environment dev))" in out
    assert f"execution    {PIPELINE_EXECUTION}" in out and "metrics doc  ModelQuality.Statistics: s3://m/e.json" in out
    assert "Approved by arn:aws:sts::111111111111:assumed-role/approver/alice" in out
    assert "MinAccuracy" in out and "0.6" in out
    if served == AWS_ARN:
        assert f"{ENDPOINT} (InService) variant AllTraffic: champion, production, weight 1" in out
        assert "100.0 % of requests answered" in out
    else:
        assert f"not served by {ENDPOINT} (InService), which serves {OTHER_ARN}" in out
    why = [line for line in out.splitlines() if "could not read" in line]
    assert len(why) == 1 and f"MLflow run 0123456789abcdef at {UNREACHABLE}" in why[0]
