"""Challengers: an approved package beside the champion (shadow or A/B), and the end of a test."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.lambdas.matchers import Containing
from tests.lambdas.test_deploy_model_approval import (
    ACCOUNT,
    ARN,
    CAPTURE,
    ENDPOINT,
    ENVIRONMENT,
    EVENT_ID,
    GROUP,
    IMAGE,
    KEY,
    NEW,
    NOW,
    OLD_CONFIG,
    OLD_MODEL,
    PENDING,
    PROJECT_TAG,
    ROLE,
    SERVED_ARN,
    STACK_TAG,
    TOPIC,
    JsonOf,
    approval_event,
    expect_clone,
    expect_current_model,
    expect_endpoint,
    expect_package,
    expect_pending_recorded,
    expect_update,
)

SERVED = "/roberta-sentiment/dev/serving/model-package-arn"
RUNNING_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{GROUP}/1"  # a challenger already on test
RUNNING_MODEL = f"{ENDPOINT}-v1-0badcafe"
CHAMPION = {
    "VariantName": "AllTraffic",
    "ModelName": OLD_MODEL,
    "InitialInstanceCount": 1,
    "InstanceType": "ml.m5.xlarge",
    "InitialVariantWeight": 1.0,
}


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]


# The naming rule restated: the challenger's config hashes the package and the config it was cloned from.
SHADOW20 = f"{ENDPOINT}-v3-shadow20-{digest(ARN, OLD_CONFIG)}"
AB10 = f"{ENDPOINT}-v3-ab10-{digest(ARN, OLD_CONFIG)}"


@pytest.fixture()
def challenger_mode(monkeypatch):
    def set_mode(mode: str, percent: int | None = None) -> None:
        monkeypatch.setenv("CHALLENGER_MODE", mode)
        if percent is not None:
            monkeypatch.setenv("CHALLENGER_TRAFFIC_PERCENT", str(percent))

    return set_mode


def model(name: str, package: str) -> dict:
    return {
        "ModelName": name,
        "ModelArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{name.lower()}",
        "CreationTime": NOW,
        "ExecutionRoleArn": ROLE,
        "EnableNetworkIsolation": False,
        "Containers": [
            {"Image": IMAGE, "Mode": "SingleModel", "Environment": ENVIRONMENT, "ModelPackageName": package}
        ],
    }


def expect_config(sm, *, shadow: dict | None = None, ab: dict | None = None, champion: dict = CHAMPION) -> None:
    """CloudFormation's config (or a clone of it), a challenger on test or not."""
    config = {
        "EndpointConfigName": OLD_CONFIG,
        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}",
        "ProductionVariants": [champion] + ([ab] if ab else []),
        "DataCaptureConfig": CAPTURE,
        "KmsKeyId": KEY,
        "CreationTime": NOW,
    }
    if shadow:
        config["ShadowProductionVariants"] = [shadow]
    sm.add_response("describe_endpoint_config", config, {"EndpointConfigName": OLD_CONFIG})


def expect_model(sm, name: str, package: str) -> None:
    sm.add_response("describe_model", model(name, package), {"ModelName": name})


def running(weight: float) -> dict:
    return {**CHAMPION, "VariantName": "Challenger", "ModelName": RUNNING_MODEL, "InitialVariantWeight": weight}


def expect_challenger_clone(sm, config_request: dict) -> None:
    """The challenger's model: the champion's cloned with the new package; then its config."""
    sm.add_response("list_tags", {"Tags": [STACK_TAG, PROJECT_TAG]}, {"ResourceArn": model(OLD_MODEL, "")["ModelArn"]})
    model_request = {
        "ModelName": NEW,
        "ExecutionRoleArn": ROLE,
        "EnableNetworkIsolation": False,
        "Containers": [{"Mode": "SingleModel", "Environment": ENVIRONMENT, "ModelPackageName": ARN}],
        "Tags": [PROJECT_TAG],
    }
    sm.add_response("create_model", {"ModelArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{NEW}"}, model_request)
    expect_config_created(sm, config_request)


def expect_config_created(sm, config_request: dict) -> None:
    config_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{OLD_CONFIG.lower()}"
    sm.add_response("list_tags", {"Tags": [STACK_TAG, PROJECT_TAG]}, {"ResourceArn": config_arn})
    name = config_request["EndpointConfigName"]
    created = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{name}"
    sm.add_response("create_endpoint_config", {"EndpointConfigArn": created}, config_request)
    sm.add_response(
        "update_endpoint",
        {"EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}"},
        {"EndpointName": ENDPOINT, "EndpointConfigName": name, "RetainDeploymentConfig": True},
    )


def expect_recorded(ssm, arn: str, config: str, purpose: str, event_id: str | None = EVENT_ID) -> None:
    record = {
        "model_package_arn": arn,
        "endpoint_config_name": config,
        "previous_endpoint_config_name": OLD_CONFIG,
        "event_id": event_id,
        "purpose": purpose,
    }
    ssm.add_response(
        "put_parameter", {"Version": 2}, {"Name": PENDING, "Value": JsonOf(record), "Type": "String", "Overwrite": True}
    )


def config_request(name: str, variants: list, shadow: list | None = None) -> dict:
    request = {"EndpointConfigName": name, "ProductionVariants": variants}
    if shadow:
        request["ShadowProductionVariants"] = shadow
    return {**request, "DataCaptureConfig": CAPTURE, "KmsKeyId": KEY, "Tags": [PROJECT_TAG]}


def challenger_of(weight: float) -> dict:
    return {**CHAMPION, "VariantName": "Challenger", "ModelName": NEW, "InitialVariantWeight": weight}


def test_shadow_the_approved_package_gets_a_copy_of_the_configured_share(deploy_model, lambda_context, challenger_mode):
    challenger_mode("shadow", 20)
    sm = deploy_model.sagemaker
    expect_package(sm)
    expect_endpoint(sm)
    expect_config(sm)
    expect_model(sm, OLD_MODEL, SERVED_ARN)
    # Champion unchanged; the shadow's weight over the champion's is the sampled share (0.2 / 1.0).
    expect_challenger_clone(sm, config_request(SHADOW20, [CHAMPION], shadow=[challenger_of(0.2)]))
    expect_recorded(deploy_model.ssm, ARN, SHADOW20, "challenger")
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {
        "status": "challenger-started",
        "package_arn": ARN,
        "mode": "shadow",
        "traffic_percent": 20,
        "endpoint_config": SHADOW20,
        "previous_endpoint_config": OLD_CONFIG,
        "replaced_challenger": None,
    }


def test_ab_the_approved_package_answers_the_configured_share(deploy_model, lambda_context, challenger_mode):
    challenger_mode("ab", 10)
    sm = deploy_model.sagemaker
    expect_package(sm)
    expect_endpoint(sm)
    expect_config(sm)
    expect_model(sm, OLD_MODEL, SERVED_ARN)
    champion = {**CHAMPION, "InitialVariantWeight": 0.9}
    expect_challenger_clone(sm, config_request(AB10, [champion, challenger_of(0.1)]))
    expect_recorded(deploy_model.ssm, ARN, AB10, "challenger")
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result["status"] == "challenger-started" and result["endpoint_config"] == AB10


def test_a_running_challenger_is_replaced_by_the_newly_approved_one(deploy_model, lambda_context, challenger_mode):
    challenger_mode("shadow", 20)
    sm = deploy_model.sagemaker
    expect_package(sm)
    expect_endpoint(sm)
    expect_config(sm, shadow=running(0.2))
    expect_model(sm, OLD_MODEL, SERVED_ARN)
    expect_model(sm, RUNNING_MODEL, RUNNING_ARN)
    # One shadow variant, the new one: the old challenger's model is gone from the config.
    expect_challenger_clone(sm, config_request(SHADOW20, [CHAMPION], shadow=[challenger_of(0.2)]))
    expect_recorded(deploy_model.ssm, ARN, SHADOW20, "challenger")
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result["status"] == "challenger-started" and result["replaced_challenger"] == RUNNING_ARN


def test_a_shadow_test_switched_to_ab_replaces_the_shadow_variant(deploy_model, lambda_context, challenger_mode):
    challenger_mode("ab", 10)
    sm = deploy_model.sagemaker
    expect_package(sm)
    expect_endpoint(sm)
    expect_config(sm, shadow=running(0.2))
    expect_model(sm, OLD_MODEL, SERVED_ARN)
    expect_model(sm, RUNNING_MODEL, RUNNING_ARN)
    expect_challenger_clone(sm, config_request(AB10, [{**CHAMPION, "InitialVariantWeight": 0.9}, challenger_of(0.1)]))
    expect_recorded(deploy_model.ssm, ARN, AB10, "challenger")
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "challenger-started"


def test_a_redelivered_approval_of_the_running_challenger_changes_nothing(
    deploy_model, lambda_context, challenger_mode
):
    challenger_mode("ab", 10)
    sm = deploy_model.sagemaker
    expect_package(sm)
    expect_endpoint(sm)
    expect_config(sm, champion={**CHAMPION, "InitialVariantWeight": 0.9}, ab={**running(0.1), "ModelName": NEW})
    expect_model(sm, OLD_MODEL, SERVED_ARN)
    expect_model(sm, NEW, ARN)
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {"status": "already-challenging", "package_arn": ARN, "endpoint_config": OLD_CONFIG}


def test_the_champions_own_package_is_not_made_its_challenger(deploy_model, lambda_context, challenger_mode):
    challenger_mode("shadow", 20)
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker)
    expect_config(deploy_model.sagemaker)
    expect_model(deploy_model.sagemaker, OLD_MODEL, ARN)
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "already-serving"


def test_a_retry_during_its_own_challenger_rollout_records_it(deploy_model, lambda_context, challenger_mode):
    challenger_mode("shadow", 20)
    expect_package(deploy_model.sagemaker)
    # Until the update is over the endpoint reports the config it was cloned from: same name again.
    expect_endpoint(deploy_model.sagemaker, status="Updating", rolling_out=SHADOW20)
    deploy_model.ssm.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": PENDING})
    expect_recorded(deploy_model.ssm, ARN, SHADOW20, "challenger")
    assert deploy_model.handler.handler(approval_event(), lambda_context)["status"] == "pending"


def test_mode_off_deploys_as_before(deploy_model, lambda_context, challenger_mode):
    challenger_mode("off", 30)  # the share is ignored when off
    sm = deploy_model.sagemaker
    expect_package(sm)
    expect_endpoint(sm)
    expect_current_model(sm)
    expect_clone(sm)
    expect_update(sm)
    expect_pending_recorded(deploy_model.ssm)  # the record of before: no "purpose" key
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {
        "status": "deployed-started",
        "package_arn": ARN,
        "endpoint_config": NEW,
        "previous_endpoint_config": OLD_CONFIG,
    }


def test_mode_off_leaves_a_running_test_alone_and_says_how_to_end_it(deploy_model, lambda_context, challenger_mode):
    challenger_mode("off")
    expect_package(deploy_model.sagemaker)
    expect_endpoint(deploy_model.sagemaker)
    expect_config(deploy_model.sagemaker, shadow=running(0.2))
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-1"},
        {"TopicArn": TOPIC, "Subject": Containing("challenger"), "Message": Containing(ARN, "tools.challenger end")},
    )
    result = deploy_model.handler.handler(approval_event(), lambda_context)
    assert result == {"status": "challenger-test-running", "package_arn": ARN}


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"CHALLENGER_MODE": "canary", "CHALLENGER_TRAFFIC_PERCENT": "10"}, "CHALLENGER_MODE is 'canary'"),
        ({"CHALLENGER_MODE": "ab"}, "CHALLENGER_TRAFFIC_PERCENT is ''"),
        ({"CHALLENGER_MODE": "shadow", "CHALLENGER_TRAFFIC_PERCENT": "60"}, "from 1 to 50"),
        ({"CHALLENGER_MODE": "shadow", "CHALLENGER_TRAFFIC_PERCENT": "0"}, "from 1 to 50"),
    ],
)
def test_a_wrong_challenger_setting_fails_every_invocation(
    deploy_model, lambda_context, monkeypatch, environment, message
):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        deploy_model.handler.handler(approval_event(), lambda_context)


# Ending a test.

END_CHAMPION = f"{ENDPOINT}-v2-end-{digest(SERVED_ARN, OLD_CONFIG)}"
END_CHALLENGER = f"{ENDPOINT}-v1-end-{digest(RUNNING_ARN, OLD_CONFIG)}"


def end_request(winner: str, **extra) -> dict:
    return {"action": "end-challenger-test", "winner": winner, **extra}


def end_event(winner: str) -> dict:
    return {
        "version": "0",
        "id": "5b2f3a1c-0000-4000-8000-000000000001",
        "detail-type": "End Challenger Test",
        "source": "roberta-sentiment.operators",
        "account": ACCOUNT,
        "time": "2026-11-30T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"winner": winner, "challenger_package_arn": RUNNING_ARN},
    }


def test_champion_wins_a_shadow_test_the_shadow_is_removed(deploy_model, lambda_context):
    sm = deploy_model.sagemaker
    expect_endpoint(sm)
    expect_config(sm, shadow=running(0.2))
    expect_model(sm, RUNNING_MODEL, RUNNING_ARN)
    expect_model(sm, OLD_MODEL, SERVED_ARN)
    expect_config_created(sm, config_request(END_CHAMPION, [CHAMPION]))
    expect_recorded(deploy_model.ssm, SERVED_ARN, END_CHAMPION, "end-challenger-test", event_id=None)
    result = deploy_model.handler.handler(end_request("champion"), lambda_context)
    assert result == {
        "status": "end-started",
        "winner": "champion",
        "mode": "shadow",
        "package_arn": SERVED_ARN,
        "challenger_package_arn": RUNNING_ARN,
        "endpoint_config": END_CHAMPION,
        "previous_endpoint_config": OLD_CONFIG,
    }


def test_challenger_wins_an_ab_test_it_takes_all_traffic_and_is_recorded_as_served(deploy_model, lambda_context):
    sm = deploy_model.sagemaker
    expect_endpoint(sm)
    expect_config(sm, champion={**CHAMPION, "InitialVariantWeight": 0.9}, ab=running(0.1))
    expect_model(sm, RUNNING_MODEL, RUNNING_ARN)
    # The winner keeps its model, under the champion's variant name (blue/green keeps names), all the traffic.
    winner = {**CHAMPION, "ModelName": RUNNING_MODEL}
    expect_config_created(sm, config_request(END_CHALLENGER, [winner]))
    end_id = end_event("challenger")["id"]
    expect_recorded(deploy_model.ssm, RUNNING_ARN, END_CHALLENGER, "end-challenger-test", event_id=end_id)
    result = deploy_model.handler.handler(end_event("challenger"), lambda_context)
    assert result["status"] == "end-started" and result["package_arn"] == RUNNING_ARN

    # The endpoint settles on that config: the winner is recorded as served.
    record = {
        "model_package_arn": RUNNING_ARN,
        "endpoint_config_name": END_CHALLENGER,
        "previous_endpoint_config_name": OLD_CONFIG,
        "event_id": end_id,
        "purpose": "end-challenger-test",
    }
    deploy_model.ssm.add_response(
        "get_parameter",
        {"Parameter": {"Name": PENDING, "Type": "String", "Value": json.dumps(record), "Version": 2}},
        {"Name": PENDING},
    )
    sm.add_response(
        "describe_endpoint",
        {
            "EndpointName": ENDPOINT,
            "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}",
            "EndpointConfigName": END_CHALLENGER,
            "EndpointStatus": "InService",
            "CreationTime": NOW,
            "LastModifiedTime": NOW,
        },
        {"EndpointName": ENDPOINT},
    )
    deploy_model.ssm.add_response(
        "put_parameter", {"Version": 5}, {"Name": SERVED, "Value": RUNNING_ARN, "Type": "String", "Overwrite": True}
    )
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-2"},
        {"TopicArn": TOPIC, "Subject": Containing("test ended"), "Message": Containing(RUNNING_ARN, SERVED)},
    )
    deploy_model.ssm.add_response("delete_parameter", {}, {"Name": PENDING})
    settled = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Endpoint State Change",
        "detail": {"EndpointName": ENDPOINT, "EndpointStatus": "IN_SERVICE"},
    }
    assert deploy_model.handler.handler(settled, lambda_context) == {
        "status": "verified",
        "package_arn": RUNNING_ARN,
        "endpoint_config": END_CHALLENGER,
        "purpose": "end-challenger-test",
    }


def test_ending_a_test_that_was_replaced_since_is_refused(deploy_model, lambda_context):
    sm = deploy_model.sagemaker
    expect_endpoint(sm)
    expect_config(sm, shadow={**running(0.2), "ModelName": NEW})
    expect_model(sm, NEW, ARN)
    result = deploy_model.handler.handler(end_request("challenger", challenger_package_arn=RUNNING_ARN), lambda_context)
    assert result["status"] == "refused" and ARN in result["reason"]


def test_ending_when_no_test_runs_changes_nothing(deploy_model, lambda_context):
    expect_endpoint(deploy_model.sagemaker)
    expect_config(deploy_model.sagemaker)
    result = deploy_model.handler.handler(end_request("challenger"), lambda_context)
    assert result == {"status": "no-challenger", "endpoint_config": OLD_CONFIG}


def test_ending_during_another_rollout_raises_so_it_is_retried(deploy_model, lambda_context):
    expect_endpoint(deploy_model.sagemaker, status="Updating", rolling_out=SHADOW20)
    deploy_model.ssm.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": PENDING})
    with pytest.raises(deploy_model.deploy.EndpointBusy, match="Updating"):
        deploy_model.handler.handler(end_request("champion"), lambda_context)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        ({"action": "end-challenger-test"}, "winner is None"),
        (end_request("both"), "winner is 'both'"),
        (end_request(["challenger"]), "winner is ['challenger']"),
        ({"action": "end-test", "winner": "champion"}, "action is 'end-test'"),
        (end_request("champion", challenger_package_arn="v3"), "challenger_package_arn 'v3'"),
        ({**end_event("champion"), "detail": None}, "detail is NoneType"),
        ({**end_event("champion"), "detail": {"winner": "nobody"}}, "detail.winner is 'nobody'"),
    ],
)
def test_a_malformed_end_request_is_dropped_without_an_aws_call(deploy_model, lambda_context, request_, reason):
    result = deploy_model.handler.handler(request_, lambda_context)
    assert result["status"] == "malformed" and reason in result["reason"]


def test_a_verified_challenger_leaves_the_served_package_alone(deploy_model, lambda_context):
    record = {
        "model_package_arn": ARN,
        "endpoint_config_name": SHADOW20,
        "previous_endpoint_config_name": OLD_CONFIG,
        "event_id": EVENT_ID,
        "purpose": "challenger",
    }
    deploy_model.ssm.add_response(
        "get_parameter",
        {"Parameter": {"Name": PENDING, "Type": "String", "Value": json.dumps(record), "Version": 2}},
        {"Name": PENDING},
    )
    deploy_model.sagemaker.add_response(
        "describe_endpoint",
        {
            "EndpointName": ENDPOINT,
            "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{ENDPOINT}",
            "EndpointConfigName": SHADOW20,
            "EndpointStatus": "InService",
            "CreationTime": NOW,
            "LastModifiedTime": NOW,
        },
        {"EndpointName": ENDPOINT},
    )
    # No put_parameter queued: writing the served parameter would fail the stubbed call.
    deploy_model.sns.add_response(
        "publish",
        {"MessageId": "m-3"},
        {"TopicArn": TOPIC, "Subject": Containing("Challenger deployed"), "Message": Containing(ARN, "unchanged")},
    )
    deploy_model.ssm.add_response("delete_parameter", {}, {"Name": PENDING})
    settled = {
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Endpoint State Change",
        "detail": {"EndpointName": ENDPOINT, "EndpointStatus": "IN_SERVICE"},
    }
    result = deploy_model.handler.handler(settled, lambda_context)
    assert result == {"status": "verified", "package_arn": ARN, "endpoint_config": SHADOW20, "purpose": "challenger"}


def test_the_shadow_share_is_the_ratio_of_the_weights_whatever_the_champions_weight(deploy_model):
    weights = deploy_model.clone.challenger_weights
    assert weights(0.5, "shadow", 20) == (0.5, 0.1)
    assert weights(0.9, "ab", 25) == (0.75, 0.25)
