"""Post-deploy check: the endpoint is InService and answers sample reviews with well-formed predictions.

    python -m tools.endpoint_check --env staging [--expected-model-package ARN]
    python -m tools.endpoint_check --endpoint-name NAME --region us-east-1 [--expected-config NAME]

Sends the real reviews in tools/sample_reviews.json (negative, neutral, positive) in one
application/json request {"inputs": [...]} and checks the answer has ml_code/inference.py's
format: one prediction per text, in order; label one of negative/neutral/positive;
sentiment -1/0/1 matching the label; probabilities over exactly those labels, each in
[0, 1], summing to 1; score equal to the highest probability, which is the label's. Other
fields are allowed. Whether the model *agrees* with the reviews' star ratings is printed,
not checked: that is the evaluation gate's job, not a deployment check's.
Exit 0: all good; 1: the endpoint is not InService, serves something else, errs or
answers malformed predictions; 2: usage or AWS error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from tools.aws_cli import (
    DEFAULT_CDK_JSON,
    FAILED,
    OK,
    ClientFactory,
    ToolError,
    add_aws_arguments,
    aws_error_message,
    client_factory,
    error_code,
    load_environment,
    run,
)

SAMPLES = Path(__file__).with_name("sample_reviews.json")
JSON = "application/json"
# Each probability is rounded to 6 decimals (and computed from fp16 logits on GPU).
SUM_TOLERANCE = 1e-3
SCORE_TOLERANCE = 1e-6
# InvokeEndpoint errors that mean the endpoint (not our call) failed: a failed check.
ENDPOINT_FAILURES = {"ModelError", "ModelNotReadyException", "ServiceUnavailable", "InternalFailure"}


def _labels() -> dict[str, int]:
    from ml_code.common.labels import SENTIMENTS  # the one label mapping the model serves

    return {s.name: s.value for s in SENTIMENTS}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def prediction_problems(prediction: Any) -> list[str]:
    """What is wrong with one prediction object (empty when well-formed)."""
    labels = _labels()
    if not isinstance(prediction, dict):
        return [f"is a JSON {type(prediction).__name__}, not an object"]
    missing = [key for key in ("label", "sentiment", "score", "probabilities") if key not in prediction]
    if missing:
        return [f"has no {', '.join(missing)}"]
    label, sentiment, score, probabilities = (prediction[k] for k in ("label", "sentiment", "score", "probabilities"))
    problems = []
    if label not in labels:
        problems.append(f"label {label!r} is not one of {', '.join(labels)}")
    elif not (isinstance(sentiment, int) and not isinstance(sentiment, bool) and sentiment == labels[label]):
        problems.append(f"sentiment {sentiment!r} does not match label {label!r} ({labels[label]})")
    if not isinstance(probabilities, dict) or set(probabilities) != set(labels):
        return problems + [f"probabilities {probabilities!r} are not one number per label ({', '.join(labels)})"]
    bad = {k: v for k, v in probabilities.items() if not (_number(v) and 0 <= v <= 1)}
    if bad:
        return problems + [f"probabilities {bad!r} are not numbers in [0, 1]"]
    total = sum(probabilities.values())
    if abs(total - 1) > SUM_TOLERANCE:
        problems.append(f"probabilities sum to {total:.6f}, not 1")
    best = max(probabilities.values())
    if not (_number(score) and 0 <= score <= 1 and abs(score - best) <= SCORE_TOLERANCE):
        problems.append(f"score {score!r} is not the highest probability {best}")
    if label in labels and abs(probabilities[label] - best) > SCORE_TOLERANCE:
        problems.append(f"label {label!r} has probability {probabilities[label]}, below the highest {best}")
    return problems


def response_problems(body: bytes | str, expected_count: int) -> tuple[list, list[str]]:
    """(predictions, problems) of a whole response to ``expected_count`` texts."""
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return [], [f"the response is not JSON ({error}): {_short(body)}"]
    if not isinstance(document, list):
        return [], [f"the response is a JSON {type(document).__name__}, not a list of predictions: {_short(body)}"]
    problems = []
    if len(document) != expected_count:
        problems.append(f"{len(document)} predictions for {expected_count} texts")
    for index, prediction in enumerate(document):
        problems += [f"prediction {index} {problem}" for problem in prediction_problems(prediction)]
    return document, problems


def load_samples(path: Path = SAMPLES) -> list[dict]:
    try:
        reviews = json.loads(path.read_text())["reviews"]
        if not reviews or not all(isinstance(r.get("text"), str) and r["text"].strip() for r in reviews):
            raise ValueError("every review needs a non-empty text")
        return reviews
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ToolError(f"{path}: cannot read sample reviews ({error})") from None


def endpoint_problems(sagemaker, name: str, expected_config: str | None, expected_package: str | None) -> list[str]:
    """InService, on the expected endpoint config, every variant serving the expected model package."""
    from botocore.exceptions import ClientError

    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if error_code(error) == "ValidationException" and "Could not find" in aws_error_message(error):
            raise ToolError(f"endpoint {name!r} does not exist in this account and region") from None
        raise
    if endpoint["EndpointStatus"] != "InService":
        reason = f": {endpoint['FailureReason']}" if endpoint.get("FailureReason") else ""
        return [f"endpoint {name} is {endpoint['EndpointStatus']}, not InService{reason}"]
    config_name = endpoint["EndpointConfigName"]
    if expected_config and config_name != expected_config:
        return [f"endpoint {name} runs endpoint config {config_name}, expected {expected_config}"]
    if not expected_package:
        return []
    problems = []
    for variant in sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]:
        model = sagemaker.describe_model(ModelName=variant["ModelName"])
        containers = model.get("Containers") or [model.get("PrimaryContainer", {})]
        packages = [c.get("ModelPackageName") for c in containers]
        if packages != [expected_package]:
            problems.append(f"variant {variant['VariantName']} serves {packages}, expected {expected_package}")
    return problems


def invoke(runtime, name: str, texts: list[str]) -> tuple[bytes | None, str | None]:
    """(response body, None), or (None, why the endpoint failed to answer)."""
    from botocore.exceptions import ClientError

    request = json.dumps({"inputs": texts}).encode()
    try:
        response = runtime.invoke_endpoint(EndpointName=name, ContentType=JSON, Accept=JSON, Body=request)
    except ClientError as error:
        if error_code(error) not in ENDPOINT_FAILURES:
            raise
        # ModelError carries the container's own status (the API answers 424 around it).
        metadata = error.response.get("ResponseMetadata", {})
        status = error.response.get("OriginalStatusCode") or metadata.get("HTTPStatusCode")
        return None, f"endpoint {name} failed to answer (HTTP {status}): {aws_error_message(error)}"
    return response["Body"].read(), None


def _short(body: bytes | str, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.endpoint_check", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--endpoint-name", help="the endpoint to check")
    target.add_argument("--env", help="check this environment's endpoint (name and region from cdk.json)")
    parser.add_argument("--cdk-json", type=Path, default=DEFAULT_CDK_JSON, help="default: ./cdk.json")
    parser.add_argument("--expected-config", help="the endpoint must run this endpoint config")
    parser.add_argument("--expected-model-package", help="every variant must serve this model package ARN")
    parser.add_argument("--samples", type=Path, default=SAMPLES, help=f"reviews to send (default: {SAMPLES.name})")
    add_aws_arguments(parser)
    return parser.parse_args(argv)


def check(args: argparse.Namespace, clients: ClientFactory | None) -> int:
    name, region = args.endpoint_name, args.region
    if args.env:
        config = load_environment(args.env, args.cdk_json)
        name, region = config.endpoint_name, region or config.region
    reviews = load_samples(args.samples)
    clients = clients or client_factory(region, args.assume_role_arn)
    problems = endpoint_problems(clients("sagemaker"), name, args.expected_config, args.expected_model_package)
    if not problems:
        body, failure = invoke(clients("sagemaker-runtime"), name, [r["text"] for r in reviews])
        if failure is None:
            assert body is not None, "invoke returns a body or a failure"
            predictions, problems = response_problems(body, len(reviews))
        else:
            predictions, problems = [], [failure]
    if not problems:
        pairs = list(zip(reviews, predictions, strict=True))
        for review, p in pairs:
            print(f"{p['label']:>8} {p['score']:.3f}  (rated {review.get('expected', '?')}) {review['text'][:60]!r}")
        agree = sum(p["label"] == review.get("expected") for review, p in pairs)
        print(f"ok: {name} answered {len(reviews)} well-formed predictions ({agree} agree with the ratings)")
        return OK
    print(f"check failed: {name}", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return FAILED


def main(argv: list[str] | None = None, clients: ClientFactory | None = None) -> int:
    """``clients``: service name -> boto3 client (tests pass stubbed ones)."""
    args = parse_args(argv)
    return run(lambda: check(args, clients))


if __name__ == "__main__":
    sys.exit(main())
