"""The post-deploy endpoint check, with SageMaker stubbed, and its validator on a real handler response."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody

from tests.conftest import ROOT
from tools.endpoint_check import SAMPLES, load_samples, main, prediction_problems, response_problems

NAME = "roberta-sentiment-staging-sentiment"
CONFIG = "EndpointConfig-abc123"
PACKAGE = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/3"
REVIEWS = load_samples()
TEXTS = [review["text"] for review in REVIEWS]
LABELS = (("negative", -1), ("neutral", 0), ("positive", 1))


def prediction(*probabilities: float) -> dict:
    """A well-formed answer as ml_code/inference.py documents it (probabilities in label order)."""
    best = max(range(3), key=probabilities.__getitem__)
    label, sentiment = LABELS[best]
    named = {name: p for (name, _), p in zip(LABELS, probabilities, strict=True)}
    return {"label": label, "sentiment": sentiment, "score": probabilities[best], "probabilities": named}


GOOD = [prediction(0.8, 0.15, 0.05), prediction(0.2, 0.5, 0.3), prediction(0.01, 0.04, 0.95)] * 2


def endpoint(status="InService", config=CONFIG) -> dict:
    return {
        "EndpointName": NAME,
        "EndpointArn": f"arn:aws:sagemaker:us-east-1:222222222222:endpoint/{NAME}",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": "2026-11-01T00:00:00Z",
        "LastModifiedTime": "2026-11-01T00:00:00Z",
    }


def answer(body: bytes | str, content_type: str = "application/json") -> dict:
    data = body.encode() if isinstance(body, str) else body
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentType": content_type}


def stub_endpoint(aws, response: dict | None = None, status: str = "InService") -> None:
    aws.stub("sagemaker").add_response("describe_endpoint", endpoint(status), {"EndpointName": NAME})
    if response is not None:
        request = {
            "EndpointName": NAME,
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": json.dumps({"inputs": TEXTS}).encode(),
        }
        aws.stub("sagemaker-runtime").add_response("invoke_endpoint", response, request)


def check(aws, *extra: str) -> int:
    return main(["--endpoint-name", NAME, *extra], clients=aws)


def test_samples_are_real_reviews_of_every_class():
    assert {review["expected"] for review in REVIEWS} == {"negative", "neutral", "positive"}
    assert all(review["rating"] in (1, 2, 3, 4, 5) and len(review["text"]) > 40 for review in REVIEWS)


def test_well_formed_predictions_pass(aws, capsys):
    stub_endpoint(aws, answer(json.dumps(GOOD)))
    assert check(aws) == 0
    out = capsys.readouterr().out
    assert f"ok: {NAME} answered 6 well-formed predictions (2 agree with the ratings)" in out


def test_extra_fields_are_accepted(aws):
    stub_endpoint(aws, answer(json.dumps([{**p, "num_tokens": 31, "truncated": False} for p in GOOD])))
    assert check(aws) == 0


def test_env_takes_the_endpoint_name_and_region_from_cdk_json(aws):
    stub_endpoint(aws, answer(json.dumps(GOOD)))
    assert main(["--env", "staging", "--cdk-json", str(ROOT / "cdk.json")], clients=aws) == 0


MALFORMED = {
    "wrong count": (json.dumps(GOOD[:5]), "5 predictions for 6 texts"),
    "bad label": (json.dumps([{**GOOD[0], "label": "angry"}] + GOOD[1:]), "prediction 0 label 'angry' is not one of"),
    "probabilities not summing": (
        json.dumps(GOOD[:5] + [{**GOOD[5], "probabilities": {"negative": 0.5, "neutral": 0.3, "positive": 0.5}}]),
        "prediction 5 probabilities sum to 1.300000, not 1",
    ),
    "not json": ("<html>502 Bad Gateway</html>", "the response is not JSON"),
    "not a list": (json.dumps({"predictions": GOOD}), "the response is a JSON dict, not a list of predictions"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_responses_fail_with_a_clear_message(aws, capsys, case):
    body, message = MALFORMED[case]
    stub_endpoint(aws, answer(body))
    assert check(aws) == 1
    err = capsys.readouterr().err
    assert f"check failed: {NAME}" in err and message in err


def test_an_http_error_from_the_model_container_fails_the_check(aws, capsys):
    stub_endpoint(aws)
    aws.stub("sagemaker-runtime").add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received server error (500) from primary",
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": 500, "OriginalMessage": "boom"},
    )
    assert check(aws) == 1
    assert (
        "failed to answer (HTTP 500): InvokeEndpoint: ModelError: Received server error (500)"
        in capsys.readouterr().err
    )


def test_an_endpoint_that_is_not_in_service_fails_without_invoking(aws, capsys):
    stub_endpoint(aws, status="Updating")
    assert check(aws) == 1
    assert f"endpoint {NAME} is Updating, not InService" in capsys.readouterr().err


def test_the_expected_endpoint_config_is_checked(aws, capsys):
    stub_endpoint(aws)
    assert check(aws, "--expected-config", "EndpointConfig-new") == 1
    assert f"runs endpoint config {CONFIG}, expected EndpointConfig-new" in capsys.readouterr().err


@pytest.mark.parametrize("served, code", [(PACKAGE, 0), (PACKAGE.replace("/3", "/2"), 1)])
def test_the_expected_model_package_is_checked_on_every_variant(aws, capsys, served, code):
    stub_endpoint(aws, answer(json.dumps(GOOD)) if code == 0 else None)
    sagemaker = aws.stub("sagemaker")
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "Model-xyz",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.g5.xlarge",
    }
    sagemaker.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": CONFIG,
            "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:2:endpoint-config/x",
            "ProductionVariants": [variant],
            "CreationTime": "2026-11-01T00:00:00Z",
        },
        {"EndpointConfigName": CONFIG},
    )
    sagemaker.add_response(
        "describe_model",
        {
            "ModelName": "Model-xyz",
            "Containers": [{"ModelPackageName": served}],
            "CreationTime": "2026-11-01T00:00:00Z",
            "ModelArn": "arn:aws:sagemaker:us-east-1:2:model/model-xyz",
        },
        {"ModelName": "Model-xyz"},
    )
    assert check(aws, "--expected-model-package", PACKAGE) == code
    if code:
        assert f"variant AllTraffic serves ['{served}'], expected {PACKAGE}" in capsys.readouterr().err


def test_a_missing_endpoint_or_access_denied_is_an_error_not_a_failed_check(aws, capsys):
    sagemaker = aws.stub("sagemaker")
    sagemaker.add_client_error("describe_endpoint", "ValidationException", f'Could not find endpoint "{NAME}".')
    assert check(aws) == 2
    assert f"endpoint {NAME!r} does not exist" in capsys.readouterr().err
    sagemaker.add_client_error("describe_endpoint", "AccessDeniedException", "not authorized")
    assert check(aws) == 2
    assert "AWS error: DescribeEndpoint: AccessDeniedException" in capsys.readouterr().err


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"sentiment": 1}, "sentiment 1 does not match label 'negative' (-1)"),
        ({"sentiment": True}, "sentiment True does not match"),
        ({"score": 0.5}, "score 0.5 is not the highest probability 0.8"),
        ({"label": "neutral", "sentiment": 0}, "label 'neutral' has probability 0.15, below the highest 0.8"),
        ({"probabilities": {"negative": 0.8, "positive": 0.2}}, "are not one number per label"),
        ({"probabilities": {"negative": 1.2, "neutral": -0.1, "positive": -0.1}}, "are not numbers in [0, 1]"),
        ({"score": None}, "score None is not the highest probability"),
    ],
)
def test_each_field_rule(change, problem):
    problems = prediction_problems({**GOOD[0], **change})
    assert any(problem in p for p in problems), problems


def test_missing_fields_and_non_objects():
    assert prediction_problems({"label": "positive"}) == ["has no sentiment, score, probabilities"]
    assert prediction_problems("positive") == ["is a JSON str, not an object"]


def test_the_validator_accepts_what_the_real_handler_answers(tiny_roberta, monkeypatch):
    """ml_code.inference with a tiny (untrained) RoBERTa: the check and the handler agree on the format."""
    from ml_code import inference

    for name in ("MAX_TEXTS_PER_REQUEST", "MAX_CHARS_PER_TEXT", "INFERENCE_BATCH_SIZE"):
        monkeypatch.delenv(name, raising=False)
    model = inference.model_fn(str(tiny_roberta))
    body = json.dumps({"inputs": TEXTS})
    response = inference.output_fn(
        inference.predict_fn(inference.input_fn(body, "application/json"), model), "application/json"
    )
    predictions, problems = response_problems(response.encode(), len(TEXTS))
    assert problems == [] and len(predictions) == len(TEXTS)


def test_the_sample_file_ships_beside_the_tool():
    assert SAMPLES.parent.name == "tools" and SAMPLES.exists()
