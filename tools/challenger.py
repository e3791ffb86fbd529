"""Challenger tests on an environment's endpoint: what runs, the A/B split, ending a test.

    python -m tools.challenger status --env dev
    python -m tools.challenger shift --env staging --challenger-percent 25
    python -m tools.challenger end --env dev --winner challenger

A challenger is the variant named Challenger beside the champion (AllTraffic): a shadow
variant ("shadow": SageMaker copies it a share of the requests, the ratio of its weight to
the champion's, and only the champion answers) or a second production variant ("ab": each
answers its weight's share).

status  the endpoint's variants from DescribeEndpoint and DescribeEndpointConfig: role,
        kind, configured and live weight, share of the requests (A/B) or sampling (shadow),
        instances, and the model package each serves. Exit 0.
shift   A/B only: sets the live weights (UpdateEndpointWeightsAndCapacities) so the
        challenger answers --challenger-percent % (1-50). This changes the endpoint outside
        CloudFormation: the stack's next update of the endpoint config resets the weights to
        cdk.json's serving.challenger.traffic_percent. The durable way is to change that value
        and deploy; shift is for a quick change in between.
end     keeps only the winner (--winner champion|challenger). Where the endpoint is updated by
        the deploy function (serving.deploy_on_approval, dev) it invokes the function's
        end-challenger-test action (lambdas/README.md), which updates blue/green and records
        the winner as served once verified. Where CloudFormation manages the endpoint it
        changes nothing and prints what to change in cdk.json (or the delivery pipeline's -c
        keys), then exits 1: the stack would reset an edit made behind its back.
Exit 0: done; 1: nothing to do, refused, or (end) left to a deploy; 2: usage or AWS error.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
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

CHALLENGER = "Challenger"  # infra/pipeline/compare_definition.py and lambdas/deploy_model/clone.py
MAX_PERCENT = 50  # serving.challenger.traffic_percent's bound
END_ACTION = "end-challenger-test"
CDK_JSON_PATH = "context.mlops.environments.{env}.serving"


@dataclass(frozen=True)
class Variant:
    name: str
    shadow: bool
    weight: float  # the endpoint config's InitialVariantWeight
    live_weight: float | None  # DescribeEndpoint's CurrentWeight (what routing uses now)
    instances: str
    package: str | None

    @property
    def role(self) -> str:
        return "challenger" if self.name == CHALLENGER else "champion"

    @property
    def effective_weight(self) -> float:
        return self.live_weight if self.live_weight is not None else self.weight


@dataclass(frozen=True)
class EndpointState:
    name: str
    status: str
    config_name: str
    variants: list[Variant]

    @property
    def champion(self) -> Variant:
        champions = [v for v in self.variants if v.role == "champion" and not v.shadow]
        if len(champions) != 1:
            raise ToolError(f"endpoint {self.name} has {len(champions)} champion variants, expected 1")
        return champions[0]

    @property
    def challenger(self) -> Variant | None:
        return next((v for v in self.variants if v.role == "challenger"), None)

    def share(self, variant: Variant) -> float:
        """% of the requests ``variant`` answers (production) or receives a copy of (shadow)."""
        if variant.shadow:
            champion = self.champion.effective_weight
            return 100 * variant.effective_weight / champion if champion else 0.0
        total = sum(v.effective_weight for v in self.variants if not v.shadow)
        return 100 * variant.effective_weight / total if total else 0.0


def _package(sagemaker, model_name: str) -> str | None:
    model = sagemaker.describe_model(ModelName=model_name)
    containers = model.get("Containers") or [model.get("PrimaryContainer") or {}]
    packages = [c.get("ModelPackageName") for c in containers]
    return packages[0] if len(packages) == 1 else None


def endpoint_state(sagemaker, name: str) -> EndpointState:
    from botocore.exceptions import ClientError

    try:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as error:
        if error_code(error) == "ValidationException" and "Could not find" in aws_error_message(error):
            raise ToolError(f"endpoint {name!r} does not exist in this account and region") from None
        raise
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    live = {
        v["VariantName"]: v.get("CurrentWeight")
        for key in ("ProductionVariants", "ShadowProductionVariants")
        for v in endpoint.get(key) or []
    }
    variants = [
        Variant(
            name=v["VariantName"],
            shadow=key == "ShadowProductionVariants",
            weight=float(v.get("InitialVariantWeight", 1.0)),
            live_weight=live.get(v["VariantName"]),
            instances=f"{v.get('InitialInstanceCount', '?')} x {v.get('InstanceType', 'serverless')}",
            package=_package(sagemaker, v["ModelName"]),
        )
        for key in ("ProductionVariants", "ShadowProductionVariants")
        for v in config.get(key) or []
    ]
    return EndpointState(name, endpoint["EndpointStatus"], endpoint["EndpointConfigName"], variants)


def _weight(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def cmd_status(args, config, clients: ClientFactory) -> int:
    state = endpoint_state(clients("sagemaker"), config.endpoint_name)
    print(f"endpoint {state.name}: {state.status}, endpoint config {state.config_name}")
    for v in state.variants:
        share = f"{state.share(v):.1f} % {'sampled (shadow, answers nobody)' if v.shadow else 'of requests answered'}"
        print(
            f"  {v.name:<12} {v.role:<10} {'shadow' if v.shadow else 'production':<10} "
            f"weight {_weight(v.weight)} (live {_weight(v.live_weight)})  {share}  {v.instances}  {v.package or '?'}"
        )
    challenger = state.challenger
    if challenger is None:
        print("no challenger test running")
    else:
        mode = "shadow" if challenger.shadow else "ab"
        print(f"challenger test: {mode}, challenger {challenger.package} on {state.share(challenger):.1f} %")
    return OK


def _configured_percent(config) -> str:
    challenger = getattr(config.serving, "challenger", None)
    percent = getattr(challenger, "traffic_percent", None)
    return f"{percent} %" if percent is not None else "its configured value"


def cmd_shift(args, config, clients: ClientFactory) -> int:
    percent = args.challenger_percent
    if not 1 <= percent <= MAX_PERCENT:
        raise ToolError(f"--challenger-percent is {percent}, not from 1 to {MAX_PERCENT}")
    sagemaker = clients("sagemaker")
    state = endpoint_state(sagemaker, config.endpoint_name)
    challenger = state.challenger
    if challenger is None:
        raise ToolError(f"endpoint {state.name} runs no challenger: nothing to shift")
    if challenger.shadow:
        raise ToolError(
            f"the challenger on {state.name} is a shadow: its sampling is part of the endpoint config; "
            f"set {CDK_JSON_PATH.format(env=args.env)}.challenger.traffic_percent and deploy"
        )
    if state.status != "InService":
        raise ToolError(f"endpoint {state.name} is {state.status}, not InService: shift when it is")
    also = ", and so does the deploy function's next update" if config.serving.deploy_on_approval else ""
    print(
        f"warning: this changes the live weights of {state.name} outside CloudFormation; the stack's next "
        f"update of the endpoint config resets them to cdk.json's serving.challenger.traffic_percent "
        f"({_configured_percent(config)}){also}"
        f". The durable way: set "
        f"{CDK_JSON_PATH.format(env=args.env)}.challenger.traffic_percent = {percent} in cdk.json and deploy.",
        file=sys.stderr,
    )
    champion = state.champion
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=state.name,
        DesiredWeightsAndCapacities=[
            {"VariantName": champion.name, "DesiredWeight": (100 - percent) / 100},
            {"VariantName": CHALLENGER, "DesiredWeight": percent / 100},
        ],
    )
    print(
        f"shifting {state.name}: champion {100 - percent} %, challenger {percent} % "
        f"(the endpoint is Updating until SageMaker applies it; check with: python -m tools.challenger status "
        f"--env {args.env})"
    )
    return OK


def _invoke_end(lambda_client, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = lambda_client.invoke(
        FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(payload).encode()
    )
    body = response["Payload"].read()
    try:
        result = json.loads(body or b"null")
    except json.JSONDecodeError:
        raise ToolError(f"deploy function {function} answered something not JSON: {body[:200]!r}") from None
    if response.get("FunctionError"):
        details = result if isinstance(result, dict) else {}
        message = f"{details.get('errorType', 'error')}: {details.get('errorMessage', body[:200])}"
        raise ToolError(f"deploy function {function} failed: {message}")
    if not isinstance(result, dict):
        raise ToolError(f"deploy function {function} answered {result!r}, not an object")
    return result


def _instructions(args, winner: Variant, champion: Variant) -> str:
    env, path = args.env, CDK_JSON_PATH.format(env=args.env)
    arn = winner.package or "<the winner's model package ARN>"
    served = " (what it is now)" if winner is champion else ""
    return (
        f"{env}'s endpoint is managed by CloudFormation: this tool does not change it (the stack's next "
        f"update would undo it). To end the test with the {winner.role} ({arn}) alone, change:\n"
        f'  cdk.json {path}.model_package_arn = "{arn}"{served}\n'
        f'  cdk.json {path}.challenger.mode = "off" (and challenger.package_arn = "none")\n'
        f"then deploy it (npx cdk deploy '{env}/Serving', or run the delivery pipeline). Where the delivery "
        f"pipeline passes the packages: -c mlops.model_package_arn.{env}={arn} and no "
        f"-c mlops.challenger_package_arn.{env}."
    )


def cmd_end(args, config, clients: ClientFactory) -> int:
    state = endpoint_state(clients("sagemaker"), config.endpoint_name)
    challenger = state.challenger
    if challenger is None:
        print(f"endpoint {state.name} runs no challenger: no test to end", file=sys.stderr)
        return FAILED
    champion = state.champion
    winner = champion if args.winner == "champion" else challenger
    if not config.serving.deploy_on_approval:
        print(_instructions(args, winner, champion))
        return FAILED
    function = args.function_name or f"{config.prefix}-deploy-model"
    payload: dict[str, Any] = {"action": END_ACTION, "winner": args.winner}
    if challenger.package:
        payload["challenger_package_arn"] = challenger.package  # refused if the test was replaced since
    result = _invoke_end(clients("lambda"), function, payload)
    status = result.get("status")
    if status in ("end-started", "pending"):
        print(
            f"ending the test on {state.name}: the {args.winner} ({result.get('package_arn', winner.package)}) "
            f"alone, blue/green (endpoint config {result.get('endpoint_config')}); the alerts topic reports "
            f"when it is verified and recorded as served"
        )
        return OK
    print(f"not ended: {status}: {result.get('reason', json.dumps(result, sort_keys=True))}", file=sys.stderr)
    return FAILED


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.challenger", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cdk-json", type=Path, default=DEFAULT_CDK_JSON, help="default: ./cdk.json")
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="variants, weights, shadow sampling and packages of the endpoint")
    shift = commands.add_parser("shift", help="A/B: set the live weights (outside CloudFormation, see above)")
    shift.add_argument(
        "--challenger-percent", type=int, required=True, help=f"share the challenger answers, 1-{MAX_PERCENT}"
    )
    end = commands.add_parser("end", help="keep only the winner (dev: through the deploy function)")
    end.add_argument("--winner", choices=("champion", "challenger"), required=True)
    end.add_argument(
        "--function-name", help="the deploy function (default: <project>-<env>-deploy-model); lambda-managed only"
    )
    for sub in (status, shift, end):
        sub.add_argument("--env", required=True, help="the environment (endpoint name and region from cdk.json)")
        add_aws_arguments(sub)
    return parser.parse_args(argv)


COMMANDS = {"status": cmd_status, "shift": cmd_shift, "end": cmd_end}


def main(argv: list[str] | None = None, clients: ClientFactory | None = None) -> int:
    """``clients``: service name -> boto3 client (tests pass stubbed ones)."""
    args = parse_args(argv)

    def command() -> int:
        config = load_environment(args.env, args.cdk_json)
        factory = clients or client_factory(args.region or config.region, args.assume_role_arn)
        return COMMANDS[args.command](args, config, factory)

    return run(command)


if __name__ == "__main__":
    sys.exit(main())
