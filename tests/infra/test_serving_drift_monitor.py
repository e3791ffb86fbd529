"""The default monitoring engine: a scheduled Evidently job instead of Model Monitor (closed to new customers)."""

from __future__ import annotations

import copy
import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from infra.app_builder import build_app
from tests.conftest import served_context

ENVS = ("dev", "staging", "prod")
MODEL_MONITOR_TYPES = (
    "AWS::SageMaker::MonitoringSchedule",
    "AWS::SageMaker::DataQualityJobDefinition",
    "AWS::SageMaker::ModelQualityJobDefinition",
    "AWS::SageMaker::ModelBiasJobDefinition",
    "AWS::SageMaker::ModelExplainabilityJobDefinition",
)


def _monitor_definition(stages, env: str) -> dict:
    return json.loads(stages[env].serving.monitor.definition)


@pytest.mark.parametrize("env", ENVS)
def test_no_template_holds_model_monitor_or_clarify(templates, synthesized, env):
    from infra.pipeline.images import analyzer_image_uri

    for kind in ("data", "analytics", "pipeline", "serving"):
        template = templates[env, kind]
        for resource_type in MODEL_MONITOR_TYPES:
            assert not template.find_resources(resource_type), (env, kind, resource_type)
        text = json.dumps(template.to_json())
        assert "sagemaker-model-monitor-analyzer" not in text and "sagemaker-clarify" not in text
        assert analyzer_image_uri("us-east-1").split("/")[0] + "/sagemaker-model-monitor" not in text


@pytest.mark.parametrize("env", ENVS)
def test_monitor_pipeline_runs_the_drift_job_in_its_own_image_under_the_lake_key(stages, templates, env):
    template = templates[env, "serving"]
    template.has_resource_properties("AWS::SageMaker::Pipeline", {"PipelineName": f"roberta-sentiment-{env}-monitor"})
    definition = _monitor_definition(stages, env)
    (step,) = definition["Steps"]
    assert (step["Name"], step["Type"]) == ("DriftMonitor", "Processing")
    args = step["Arguments"]
    app = args["AppSpecification"]
    assert "python3 /tmp/code/ml_code/monitor.py" in app["ContainerEntrypoint"][2]
    # The image is the containers/monitor asset (built by cdk deploy), not a Model Monitor image.
    assert "container-assets" in app["ImageUri"] or "Token[" in app["ImageUri"]
    arguments = app["ContainerArguments"]
    pairs = dict(zip(arguments[::2], arguments[1::2], strict=False))
    assert pairs["--window-end"] == {"Get": "Execution.StartDateTime"}
    assert pairs["--reference-uri"] == {"Get": "Parameters.ReferenceUri"}
    assert pairs["--served-package-parameter"] == f"/roberta-sentiment/{env}/serving/model-package-arn"
    assert pairs["--metrics-namespace"] == "roberta-sentiment/Monitoring"
    assert pairs["--endpoint-name"] == f"roberta-sentiment-{env}-sentiment"
    params = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert params["ReferenceUri"] == "served" and params["PublishMetrics"] == "true"
    assert params["WindowHours"] == 1 and params["GroundTruthUri"] == "none"
    assert "/datacapture/" in params["CaptureUri"] and params["CaptureUri"].endswith(
        f"roberta-sentiment-{env}-sentiment"
    )
    cluster = args["ProcessingResources"]["ClusterConfig"]
    assert cluster["InstanceCount"] == 1 and cluster["VolumeKmsKeyId"] and args["ProcessingOutputConfig"]["KmsKeyId"]
    (output,) = args["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["LocalPath"] == "/opt/ml/processing/report"
    assert "monitoring-reports" in json.dumps(output["S3Output"]["S3Uri"])


@pytest.mark.parametrize("env", ENVS)
def test_schedule_rule_starts_the_monitor_pipeline(templates, env, cdk_context):
    template = templates[env, "serving"]
    schedule = cdk_context["mlops"]["environments"][env]["monitoring"]["schedule"]
    target = Capture()
    template.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": schedule, "Targets": [target]})
    assert f"pipeline/roberta-sentiment-{env}-monitor" in json.dumps(target.as_object()["Arn"])
    assert "SageMakerPipelineParameters" in target.as_object()


@pytest.mark.parametrize(("env", "retrains"), [("dev", False), ("staging", True), ("prod", True)])
def test_drift_alarms_watch_the_jobs_metrics_and_start_retraining(templates, env, retrains):
    from infra.stacks.serving_stack import MONITORED_FEATURES

    template = templates[env, "serving"]
    alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "roberta-sentiment/Monitoring"
    ]
    drift = {
        next(d["Value"] for d in a["Dimensions"] if d["Name"] == "Feature"): a
        for a in alarms
        if a["MetricName"] == "FeatureDrifted"
    }
    assert sorted(drift) == sorted(MONITORED_FEATURES)
    assert {"review_length", "token_count", "truncated", "predicted_label", "confidence", "review_text"} == set(drift)
    for alarm in drift.values():
        assert alarm["Threshold"] == 0.5 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert {"Name": "Endpoint", "Value": f"roberta-sentiment-{env}-sentiment"} in alarm["Dimensions"]
    # No ground truth configured: no accuracy alarm.
    assert not [a for a in alarms if a["MetricName"] == "AccuracyDrop"]
    ((composite_id, composite),) = template.find_resources("AWS::CloudWatch::CompositeAlarm").items()
    assert str(composite["Properties"]["AlarmRule"]).count("ALARM(") == len(drift)
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source") == ["aws.cloudwatch"]
    ]
    assert bool(rules) is retrains
    if retrains:
        assert rules[0]["EventPattern"]["resources"] == [{"Fn::GetAtt": [composite_id, "Arn"]}]


def test_ground_truth_adds_the_accuracy_alarm_and_read_access(cdk_context, tmp_path):
    context = copy.deepcopy(served_context(cdk_context))
    monitoring = context["mlops"]["environments"]["prod"]["monitoring"]
    monitoring.update(ground_truth_s3_uri="s3://review-labels/prod", accuracy_alarm_margin=0.07)
    app = cdk.App(context=context, outdir=str(tmp_path))
    stages = build_app(app)
    template = Template.from_stack(stages["prod"].serving)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "AccuracyDrop",
            "Namespace": "roberta-sentiment/Monitoring",
            "Threshold": 0.07,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    )
    ((_, composite),) = template.find_resources("AWS::CloudWatch::CompositeAlarm").items()
    assert "AccuracyDrop" in json.dumps(template.to_json()) and str(composite).count("ALARM(") == 7
    params = {p["Name"]: p.get("DefaultValue") for p in _monitor_definition(stages, "prod")["Parameters"]}
    assert params["GroundTruthUri"] == "s3://review-labels/prod"
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "review-labels/prod/*" in policies and 'arn:", {"Ref": "AWS::Partition"}, ":s3:::review-labels' in policies


def test_monitor_role_is_scoped_to_its_endpoint_package_group_and_namespace(templates):
    template = templates["staging", "serving"]
    statements = Capture()
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyName": Match.string_like_regexp("MonitorExecution"), "PolicyDocument": {"Statement": statements}},
    )
    by_action = {json.dumps(s["Action"]): s for s in statements.as_array()}
    text = json.dumps(statements.as_array())
    reads = [s for s in statements.as_array() if s["Action"] == "s3:GetObject"]
    assert "/datacapture/roberta-sentiment-staging-sentiment/*" in json.dumps(reads)
    puts = by_action[json.dumps(["s3:PutObject", "s3:AbortMultipartUpload"])]
    assert "/monitoring-reports/roberta-sentiment-staging-sentiment/*" in json.dumps(puts["Resource"])
    assert "roberta-sentiment-dev-models-111111111111/baselines/*" in text  # dev registered the package
    describe = by_action[json.dumps("sagemaker:DescribeModelPackage")]
    assert ":111111111111:model-package/roberta-sentiment-dev-sentiment/*" in json.dumps(describe["Resource"])
    assert "parameter/roberta-sentiment/staging/serving/model-package-arn" in json.dumps(
        by_action[json.dumps("ssm:GetParameter")]
    )
    metrics = by_action[json.dumps("cloudwatch:PutMetricData")]
    assert metrics["Condition"] == {"StringLike": {"cloudwatch:namespace": "roberta-sentiment/Monitoring"}}
    jobs = by_action[
        json.dumps(
            [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:AddTags",
            ]
        )
    ]
    assert "processing-job/roberta-sentiment-staging-monitor*" in json.dumps(jobs["Resource"])
    assert all(read["Resource"] != "*" for read in reads)


def test_monitor_image_pins_match_the_local_environment():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    def pins(path: Path) -> dict[str, str]:
        found = {}
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                found[name.lower()] = version
        return found

    image = pins(root / "containers" / "monitor" / "requirements.txt")
    local = {
        **pins(root / "requirements-ml.txt"),
        **pins(root / "requirements-tools.txt"),
        **pins(root / "containers" / "training" / "requirements.txt"),
    }
    assert {"evidently", "numpy", "pandas", "boto3", "mlflow-skinny", "sagemaker-mlflow"} <= set(image)
    for name in set(image) & set(local):
        assert image[name] == local[name], name
    assert "-r containers/monitor/requirements.txt" in (root / "requirements-ml.txt").read_text()
    dockerfile = (root / "containers" / "monitor" / "Dockerfile").read_text()
    assert "pip install --no-compile -r /opt/monitor/requirements.txt" in dockerfile
