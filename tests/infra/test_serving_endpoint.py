"""The serving stack's endpoint: package, GPU config, data capture, rollout, scaling, alarms."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from tests.conftest import SERVED_PACKAGE

ENVS = ("dev", "staging", "prod")


def _one(template, kind: str) -> dict:
    (resource,) = template.find_resources(kind).values()
    return resource["Properties"]


@pytest.mark.parametrize("env", ENVS)
def test_model_serves_the_given_package_with_the_handler_limits(templates, env):
    model = _one(templates[env, "serving"], "AWS::SageMaker::Model")
    (container,) = model["Containers"]
    assert container["ModelPackageName"] == SERVED_PACKAGE
    assert container["Environment"] == {"MAX_TEXTS_PER_REQUEST": "64", "MAX_CHARS_PER_TEXT": "5000"}


@pytest.mark.parametrize(
    ("env", "instance_type", "count", "sampling"),
    [("dev", "ml.m5.xlarge", 1, 100), ("staging", "ml.g5.xlarge", 1, 50), ("prod", "ml.g5.xlarge", 2, 20)],
)
def test_endpoint_config_instance_and_encrypted_data_capture(templates, env, instance_type, count, sampling):
    config = _one(templates[env, "serving"], "AWS::SageMaker::EndpointConfig")
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"], variant["VariantName"]) == (
        instance_type,
        count,
        "AllTraffic",
    )
    capture = config["DataCaptureConfig"]
    assert capture["EnableCapture"] is True and capture["InitialSamplingPercentage"] == sampling
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["CaptureContentTypeHeader"]["JsonContentTypes"] == ["application/json", "application/jsonlines"]
    assert "DataLakeKey" in str(capture["KmsKeyId"])  # the lake's customer-managed key
    assert "DataLakeMonitoring" in str(capture["DestinationS3Uri"]) and "/datacapture" in str(
        capture["DestinationS3Uri"]
    )


@pytest.mark.parametrize(("env", "volume_key"), [("dev", True), ("staging", False), ("prod", False)])
def test_volume_key_only_where_the_instance_type_accepts_one(templates, env, volume_key):
    # ml.g5 has NVMe instance storage: SageMaker rejects a volume KMS key for it at deploy time.
    config = _one(templates[env, "serving"], "AWS::SageMaker::EndpointConfig")
    assert ("KmsKeyId" in config) is volume_key


@pytest.mark.parametrize(
    ("env", "routing"),
    [
        ("dev", {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
        (
            "staging",
            {"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}, "WaitIntervalInSeconds": 300},
        ),
        (
            "prod",
            {
                "Type": "LINEAR",
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                "WaitIntervalInSeconds": 600,
            },
        ),
    ],
)
def test_blue_green_rollout_rolls_back_on_the_error_and_latency_alarms(templates, env, routing):
    template = templates[env, "serving"]
    endpoint = _one(template, "AWS::SageMaker::Endpoint")
    assert endpoint["EndpointName"] == f"roberta-sentiment-{env}-sentiment"
    policy = endpoint["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == routing
    assert policy["TerminationWaitInSeconds"] == 300
    assert policy["MaximumExecutionTimeoutInSeconds"] > routing["WaitIntervalInSeconds"]
    rollback = [
        alarm["AlarmName"]["Ref"] for alarm in endpoint["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    ]
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    metrics = sorted(alarms[logical_id]["Properties"]["MetricName"] for logical_id in rollback)
    assert metrics == ["Invocation5XXErrors", "ModelLatency"]
    latency = next(alarms[i]["Properties"] for i in rollback if alarms[i]["Properties"]["MetricName"] == "ModelLatency")
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", 1_000_000)  # 1000 ms, in microseconds


@pytest.mark.parametrize("env", ENVS)
def test_endpoint_alarms_notify_the_alerts_topic(templates, env):
    template = templates[env, "serving"]
    (topic_id,) = template.find_resources(
        "AWS::SNS::Topic", {"Properties": {"KmsMasterKeyId": Match.any_value()}}
    ).keys()
    endpoint_alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SageMaker"
    }
    assert sorted(endpoint_alarms) == ["Invocation5XXErrors", "InvocationModelErrors", "ModelLatency"]
    for alarm in endpoint_alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert {"Name": "EndpointName", "Value": f"roberta-sentiment-{env}-sentiment"} in alarm["Dimensions"]
        assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize(("env", "minimum", "maximum"), [("dev", 1, 1), ("staging", 1, 2), ("prod", 2, 6)])
def test_target_tracking_on_invocations_per_instance(templates, env, minimum, maximum):
    template = templates[env, "serving"]
    target = _one(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["ResourceId"] == f"endpoint/roberta-sentiment-{env}-sentiment/variant/AllTraffic"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (minimum, maximum)
    assert target["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint" in str(target["RoleARN"])
    policy = _one(template, "AWS::ApplicationAutoScaling::ScalingPolicy")["TargetTrackingScalingPolicyConfiguration"]
    assert policy == {
        "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        "TargetValue": 300,
        "ScaleInCooldown": 600,
        "ScaleOutCooldown": 120,
    }


def _statements(template, role_fragment: str) -> list[dict]:
    statements = Capture()
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyName": Match.string_like_regexp(role_fragment), "PolicyDocument": {"Statement": statements}},
    )
    return statements.as_array()


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_promoted_model_role_reads_devs_artifacts_by_name_and_key_alias(templates, env):
    statements = _statements(templates[env, "serving"], "ModelRole")
    (read,) = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert "s3:::roberta-sentiment-dev-models-111111111111/training/*" in str(read["Resource"])
    (decrypt,) = [s for s in statements if s["Action"] == "kms:Decrypt"]
    assert ":kms:us-east-1:111111111111:key/*" in str(decrypt["Resource"])
    assert decrypt["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/roberta-sentiment-dev-data-lake"}
    }
    assert not [s for s in statements if "*" in s["Action"] or s["Action"] == "s3:*"]


def test_dev_shares_its_model_artifacts_with_the_promoted_accounts_only(templates):
    policies = [p["Properties"] for p in templates["dev", "data"].find_resources("AWS::S3::BucketPolicy").values()]
    shared = [
        s
        for p in policies
        for s in p["PolicyDocument"]["Statement"]
        if s.get("Sid") == "PromotedEnvironmentsReadArtifacts"
    ]
    (statement,) = shared
    assert statement["Action"] == "s3:GetObject"
    principals = str(statement["Principal"])
    assert "222222222222" in principals and "333333333333" in principals
    resources = str(statement["Resource"])
    assert len(statement["Resource"]) == 2 and "/training/*" in resources and "/baselines/*" in resources
    key = _one(templates["dev", "data"], "AWS::KMS::Key")
    (grant,) = [s for s in key["KeyPolicy"]["Statement"] if s.get("Sid") == "PromotedEnvironmentsDecryptArtifacts"]
    assert grant["Action"] == "kms:Decrypt" and grant["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    for env in ("staging", "prod"):
        statements = [
            s
            for p in templates[env, "data"].find_resources("AWS::S3::BucketPolicy").values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert not [s for s in statements if s.get("Sid") == "PromotedEnvironmentsReadArtifacts"]


def test_models_bucket_has_the_fixed_name_promoted_accounts_use(templates):
    buckets = [
        b["Properties"].get("BucketName") for b in templates["dev", "data"].find_resources("AWS::S3::Bucket").values()
    ]
    assert "roberta-sentiment-dev-models-111111111111" in buckets


@pytest.mark.parametrize("env", ENVS)
def test_served_package_is_recorded_where_promotion_reads_it(templates, env):
    # In dev the deploy function also writes it after each verified approval-driven update.
    parameters = [p["Properties"] for p in templates[env, "serving"].find_resources("AWS::SSM::Parameter").values()]
    expected = [{"Name": f"/roberta-sentiment/{env}/serving/model-package-arn", "Value": SERVED_PACKAGE}]
    assert [{k: p[k] for k in ("Name", "Value")} for p in parameters] == expected


@pytest.mark.parametrize(("env", "policy"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")])
@pytest.mark.parametrize("stack", ["pipeline", "serving"])
def test_log_groups_and_their_keys_follow_the_environments_removal_policy(templates, env, policy, stack):
    template = templates[env, stack]
    kept = [
        resource.get("DeletionPolicy", "Delete")
        for kind in ("AWS::Logs::LogGroup", "AWS::KMS::Key")
        for resource in template.find_resources(kind).values()
    ]
    assert kept and set(kept) == {policy}
