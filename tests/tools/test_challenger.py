"""tools.challenger with SageMaker and Lambda stubbed: status, the A/B shift, ending a test."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody

from tests.conftest import ROOT
from tools.challenger import main

CDK_JSON = ["--cdk-json", str(ROOT / "cdk.json")]
ACCOUNT = "111111111111"
CONFIG = "EndpointConfig-abc123"
CHAMPION_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/roberta-sentiment-dev-sentiment/2"
CHALLENGER_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/roberta-sentiment-dev-sentiment/3"
FUNCTION = "roberta-sentiment-dev-deploy-model"


def endpoint_name(env: str) -> str:
    return f"roberta-sentiment-{env}-sentiment"


def variant(name: str, model: str, weight: float) -> dict:
    return {
        "VariantName": name,
        "ModelName": model,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.g5.xlarge",
        "InitialVariantWeight": weight,
    }


def stub_endpoint(aws, env: str = "dev", mode: str | None = "ab", percent: int = 10, status: str = "InService"):
    """The endpoint, its config and models: champion AllTraffic, and a Challenger in ``mode``."""
    sm, name = aws.stub("sagemaker"), endpoint_name(env)
    champion_weight = 1 - percent / 100 if mode == "ab" else 1.0
    challenger_weight = percent / 100 * champion_weight if mode == "shadow" else percent / 100
    production = [variant("AllTraffic", "champion-model", champion_weight)]
    shadow = []
    if mode == "ab":
        production.append(variant("Challenger", "challenger-model", challenger_weight))
    elif mode == "shadow":
        shadow.append(variant("Challenger", "challenger-model", challenger_weight))

    def live(variants):
        return [{"VariantName": v["VariantName"], "CurrentWeight": v["InitialVariantWeight"]} for v in variants]

    endpoint = {
        "EndpointName": name,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}",
        "EndpointConfigName": CONFIG,
        "EndpointStatus": status,
        "ProductionVariants": live(production),
        "CreationTime": "2026-11-01T00:00:00Z",
        "LastModifiedTime": "2026-11-01T00:00:00Z",
    }
    config = {
        "EndpointConfigName": CONFIG,
        "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{CONFIG.lower()}",
        "ProductionVariants": production,
        "CreationTime": "2026-11-01T00:00:00Z",
    }
    if shadow:
        endpoint["ShadowProductionVariants"] = live(shadow)
        config["ShadowProductionVariants"] = shadow
    sm.add_response("describe_endpoint", endpoint, {"EndpointName": name})
    sm.add_response("describe_endpoint_config", config, {"EndpointConfigName": CONFIG})
    for v, arn in [(production[0], CHAMPION_ARN), *[(v, CHALLENGER_ARN) for v in production[1:] + shadow]]:
        model = {
            "ModelName": v["ModelName"],
            "ModelArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{v['ModelName']}",
            "CreationTime": "2026-11-01T00:00:00Z",
            "Containers": [{"ModelPackageName": arn}],
        }
        sm.add_response("describe_model", model, {"ModelName": v["ModelName"]})


def run_tool(aws, *argv: str) -> int:
    return main([*CDK_JSON, *argv], clients=aws)


@pytest.mark.parametrize(("mode", "expected"), [("ab", "10.0 % of requests answered"), ("shadow", "20.0 % sampled")])
def test_status_shows_variants_weights_shares_and_packages(aws, capsys, mode, expected):
    stub_endpoint(aws, mode=mode, percent=10 if mode == "ab" else 20)
    assert run_tool(aws, "status", "--env", "dev") == 0
    out = capsys.readouterr().out
    assert f"endpoint {endpoint_name('dev')}: InService, endpoint config {CONFIG}" in out
    lines = out.splitlines()
    champion = next(line for line in lines if "AllTraffic" in line)
    challenger = next(line for line in lines if line.strip().startswith("Challenger"))
    assert "champion" in champion and CHAMPION_ARN in champion and "1 x ml.g5.xlarge" in champion
    assert expected in challenger and CHALLENGER_ARN in challenger
    assert ("shadow" in challenger) == (mode == "shadow")
    assert f"challenger test: {mode}, challenger {CHALLENGER_ARN}" in out


def test_status_without_a_challenger_says_so(aws, capsys):
    stub_endpoint(aws, env="staging", mode=None)
    assert run_tool(aws, "status", "--env", "staging") == 0
    out = capsys.readouterr().out
    assert "100.0 % of requests answered" in out and "no challenger test running" in out


def test_shift_sets_the_live_weights_and_warns_they_are_outside_cloudformation(aws, capsys):
    stub_endpoint(aws, env="staging", mode="ab", percent=10)
    aws.stub("sagemaker").add_response(
        "update_endpoint_weights_and_capacities",
        {"EndpointArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{endpoint_name('staging')}"},
        {
            "EndpointName": endpoint_name("staging"),
            "DesiredWeightsAndCapacities": [
                {"VariantName": "AllTraffic", "DesiredWeight": 0.75},
                {"VariantName": "Challenger", "DesiredWeight": 0.25},
            ],
        },
    )
    assert run_tool(aws, "shift", "--env", "staging", "--challenger-percent", "25") == 0
    captured = capsys.readouterr()
    assert "champion 75 %, challenger 25 %" in captured.out
    warning = captured.err
    assert warning.startswith("warning: this changes the live weights") and "outside CloudFormation" in warning
    assert "serving.challenger.traffic_percent" in warning and "cdk.json and deploy" in warning


@pytest.mark.parametrize(
    ("mode", "percent", "message"),
    [
        ("shadow", "25", "is a shadow"),
        (None, "25", "runs no challenger"),
        ("ab", "60", "not from 1 to 50"),
    ],
)
def test_shift_refuses_what_it_cannot_shift_in_one_line(aws, capsys, mode, percent, message):
    if percent != "60":
        stub_endpoint(aws, env="staging", mode=mode)
    assert run_tool(aws, "shift", "--env", "staging", "--challenger-percent", percent) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and err.count("\n") == 1


def answer(payload: dict, function_error: str | None = None) -> dict:
    body = json.dumps(payload).encode()
    response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if function_error:
        response["FunctionError"] = function_error
    return response


def expect_invoke(aws, winner: str, response: dict) -> None:
    payload = {"action": "end-challenger-test", "winner": winner, "challenger_package_arn": CHALLENGER_ARN}
    aws.stub("lambda").add_response(
        "invoke",
        response,
        {"FunctionName": FUNCTION, "InvocationType": "RequestResponse", "Payload": json.dumps(payload).encode()},
    )


def test_end_in_dev_invokes_the_deploy_functions_end_action(aws, capsys):
    stub_endpoint(aws, mode="shadow", percent=20)
    started = {"status": "end-started", "package_arn": CHALLENGER_ARN, "endpoint_config": "cfg-end"}
    expect_invoke(aws, "challenger", answer(started))
    assert run_tool(aws, "end", "--env", "dev", "--winner", "challenger") == 0
    out = capsys.readouterr().out
    assert CHALLENGER_ARN in out and "blue/green" in out and "cfg-end" in out


def test_end_refused_by_the_function_exits_1_with_its_reason(aws, capsys):
    stub_endpoint(aws, mode="ab")
    expect_invoke(aws, "champion", answer({"status": "refused", "reason": "the test was replaced"}))
    assert run_tool(aws, "end", "--env", "dev", "--winner", "champion") == 1
    assert capsys.readouterr().err == "not ended: refused: the test was replaced\n"


def test_a_failing_function_is_one_error_line(aws, capsys):
    stub_endpoint(aws, mode="ab")
    failure = {"errorType": "EndpointBusy", "errorMessage": "endpoint is Updating"}
    expect_invoke(aws, "champion", answer(failure, function_error="Unhandled"))
    assert run_tool(aws, "end", "--env", "dev", "--winner", "champion") == 2
    err = capsys.readouterr().err
    assert err == f"error: deploy function {FUNCTION} failed: EndpointBusy: endpoint is Updating\n"


@pytest.mark.parametrize(("winner", "arn"), [("challenger", CHALLENGER_ARN), ("champion", CHAMPION_ARN)])
def test_end_on_a_cloudformation_environment_prints_what_to_change_and_edits_nothing(aws, capsys, winner, arn):
    stub_endpoint(aws, env="prod", mode="shadow")
    # No lambda or update stub: any call beyond the Describe* ones fails the test.
    assert run_tool(aws, "end", "--env", "prod", "--winner", winner) == 1
    out = capsys.readouterr().out
    assert "managed by CloudFormation: this tool does not change it" in out
    assert f'context.mlops.environments.prod.serving.model_package_arn = "{arn}"' in out
    assert 'serving.challenger.mode = "off"' in out
    assert f"-c mlops.model_package_arn.prod={arn}" in out and "no -c mlops.challenger_package_arn.prod" in out


def test_end_without_a_test_running_exits_1(aws, capsys):
    stub_endpoint(aws, mode=None)
    assert run_tool(aws, "end", "--env", "dev", "--winner", "champion") == 1
    assert "no test to end" in capsys.readouterr().err


def test_a_missing_endpoint_is_one_error_line(aws, capsys):
    aws.stub("sagemaker").add_client_error(
        "describe_endpoint", "ValidationException", f'Could not find endpoint "{endpoint_name("dev")}".'
    )
    assert run_tool(aws, "status", "--env", "dev") == 2
    assert (
        capsys.readouterr().err
        == f"error: endpoint '{endpoint_name('dev')}' does not exist in this account and region\n"
    )
