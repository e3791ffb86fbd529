"""The opt-in Model Monitor engine (``monitoring.engine: "model_monitor"``), for accounts that
already use it: baseline from the package, hourly job, drift alarms, retraining."""

from __future__ import annotations

import copy

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from infra.app_builder import build_app
from ml_code.monitoring.record_preprocessor import FEATURES
from tests.conftest import SERVED_PACKAGE, served_context

ENVS = ("dev", "staging", "prod")


def _model_monitor_context(cdk_context: dict) -> dict:
    context = copy.deepcopy(served_context(cdk_context))
    for env in ENVS:
        context["mlops"]["environments"][env]["monitoring"]["engine"] = "model_monitor"
        context["mlops"]["environments"][env]["monitoring"]["drift_threshold"] = 0.2
    return context


@pytest.fixture(scope="module")
def templates(cdk_context, tmp_path_factory):
    """Serving templates of every environment with the opt-in engine."""
    app = cdk.App(context=_model_monitor_context(cdk_context), outdir=str(tmp_path_factory.mktemp("mm")))
    stages = build_app(app)
    return {(env, "serving"): Template.from_stack(stages[env].serving) for env in ENVS}


def _one(template, kind: str) -> tuple[str, dict]:
    ((logical_id, resource),) = template.find_resources(kind).items()
    return logical_id, resource["Properties"]


@pytest.mark.parametrize("env", ENVS)
def test_baseline_is_read_from_the_served_package_at_deploy_time(templates, env):
    template = templates[env, "serving"]
    lookup_id, lookup = _one(template, "Custom::AWS")
    assert f'"ModelPackageName":"{SERVED_PACKAGE}"' in lookup["Create"] and lookup["Create"] == lookup["Update"]
    _, job = _one(template, "AWS::SageMaker::DataQualityJobDefinition")
    baseline = job["DataQualityBaselineConfig"]
    assert baseline["StatisticsResource"]["S3Uri"] == {
        "Fn::GetAtt": [lookup_id, "DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri"]
    }
    assert baseline["ConstraintsResource"]["S3Uri"] == {
        "Fn::GetAtt": [lookup_id, "DriftCheckBaselines.ModelDataQuality.Constraints.S3Uri"]
    }


@pytest.mark.parametrize("env", ENVS)
def test_data_quality_job_runs_the_analyzer_with_our_record_preprocessor_encrypted_and_isolated(templates, env):
    template = templates[env, "serving"]
    _, job = _one(template, "AWS::SageMaker::DataQualityJobDefinition")
    app = job["DataQualityAppSpecification"]
    assert app["ImageUri"].endswith(".amazonaws.com/sagemaker-model-monitor-analyzer")
    assert app["RecordPreprocessorSourceUri"].startswith("s3://cdk-") and app["RecordPreprocessorSourceUri"].endswith(
        ".py"
    )
    assert app["Environment"] == {"publish_cloudwatch_metrics": "Enabled"}
    assert job["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == f"roberta-sentiment-{env}-sentiment"
    assert "DataLakeKey" in str(job["DataQualityJobOutputConfig"]["KmsKeyId"])
    cluster = job["JobResources"]["ClusterConfig"]
    assert cluster["InstanceType"] == "ml.m5.xlarge" and "DataLakeKey" in str(cluster["VolumeKmsKeyId"])
    assert job["NetworkConfig"] == {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True}


@pytest.mark.parametrize("env", ENVS)
def test_monitoring_schedule_is_hourly_on_the_endpoint(templates, env):
    template = templates[env, "serving"]
    job_id, _ = _one(template, "AWS::SageMaker::DataQualityJobDefinition")
    _, schedule = _one(template, "AWS::SageMaker::MonitoringSchedule")
    config = schedule["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"] == {"ScheduleExpression": "cron(0 * ? * * *)"}
    assert config["MonitoringType"] == "DataQuality"
    assert job_id in str(config["MonitoringJobDefinitionName"])
    assert schedule["EndpointName"] == f"roberta-sentiment-{env}-sentiment"


@pytest.mark.parametrize(("env", "retrains"), [("dev", False), ("staging", True), ("prod", True)])
def test_drift_alarms_per_feature_notify_and_start_retraining(templates, env, retrains):
    template = templates[env, "serving"]
    drift = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "aws/sagemaker/Endpoints/data-metrics"
    }
    watched = ["review_length", "token_count", "truncated", "predicted_label", "confidence"]
    assert set(watched) <= set(FEATURES)
    assert sorted(drift) == sorted(f"feature_baseline_drift_{feature}" for feature in watched)
    for alarm in drift.values():
        assert alarm["Threshold"] == 0.2 and alarm["Period"] == 3600
        assert {"Name": "MonitoringSchedule", "Value": f"roberta-sentiment-{env}-sentiment-data-quality"} in alarm[
            "Dimensions"
        ]
    composite_id, composite = _one(template, "AWS::CloudWatch::CompositeAlarm")
    assert str(composite["AlarmRule"]).count("ALARM(") == len(watched)
    (topic_id,) = template.find_resources("AWS::SNS::Topic").keys()
    assert composite["AlarmActions"] == [{"Ref": topic_id}]
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.cloudwatch"]
    ]
    assert bool(rules) is retrains
    if retrains:
        (rule,) = rules
        assert rule["EventPattern"]["detail"] == {"state": {"value": ["ALARM"]}}
        assert rule["EventPattern"]["resources"] == [{"Fn::GetAtt": [composite_id, "Arn"]}]
        (target,) = rule["Targets"]
        assert f"pipeline/roberta-sentiment-{env}-training" in str(target["Arn"])
        assert "SageMakerPipelineParameters" in target


def test_monitor_role_reads_captures_and_baselines_and_writes_reports_only(templates):
    template = templates["staging", "serving"]
    statements = Capture()
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyName": Match.string_like_regexp("MonitorRole"), "PolicyDocument": {"Statement": statements}},
    )
    by_action = {str(s["Action"]): s for s in statements.as_array()}
    puts = by_action[str(["s3:PutObject", "s3:AbortMultipartUpload"])]
    assert "/monitoring-reports/roberta-sentiment-staging-sentiment/*" in str(puts["Resource"])
    reads = [s for s in statements.as_array() if s["Action"] == "s3:GetObject"]
    text = str(reads)
    assert "/datacapture/roberta-sentiment-staging-sentiment/*" in text
    assert "roberta-sentiment-dev-models-111111111111/baselines/*" in text  # dev registered the package


def test_model_quality_monitoring_only_with_a_ground_truth_prefix(cdk_context, templates, tmp_path):
    assert not templates["prod", "serving"].find_resources("AWS::SageMaker::ModelQualityJobDefinition")
    context = _model_monitor_context(cdk_context)
    context["mlops"]["environments"]["prod"]["monitoring"]["ground_truth_s3_uri"] = "s3://review-labels/prod"
    app = cdk.App(context=context, outdir=str(tmp_path))
    template = Template.from_stack(build_app(app)["prod"].serving)
    _, job = _one(template, "AWS::SageMaker::ModelQualityJobDefinition")
    assert job["ModelQualityAppSpecification"]["ProblemType"] == "MulticlassClassification"
    inputs = job["ModelQualityJobInput"]
    assert inputs["GroundTruthS3Input"] == {"S3Uri": "s3://review-labels/prod"}
    assert inputs["EndpointInput"]["InferenceAttribute"] in FEATURES
    schedules = {
        s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"]
        for s in template.find_resources("AWS::SageMaker::MonitoringSchedule").values()
    }
    assert schedules == {"DataQuality", "ModelQuality"}
    assert "review-labels/prod/*" in str(template.find_resources("AWS::IAM::Policy"))
