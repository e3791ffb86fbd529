"""Which model package each environment serves, what to promote, and what to roll back to.

    python -m tools.promotion current --env dev
    python -m tools.promotion context --from dev        (the delivery pipeline's synth step)
    python -m tools.promotion history --env prod [--previous]

An environment's serving stack records the model package it serves in the SSM parameter
/<project>/<env>/serving/model-package-arn (infra.config: served_model_parameter).

current   prints that ARN. Exit 1 when the environment serves no model.
context   prints the cdk arguments that deploy the package --from serves to it and to every
          later environment (the source too: the same synth redeploys its stacks, which must
          keep serving it), e.g. `-c mlops.model_package_arn.dev=<arn> -c ...staging=<arn> -c ...prod=<arn>`:
              npx cdk synth $(python -m tools.promotion context --from dev)
          The synth of one pipeline run fixes the ARN for staging and prod alike, so prod
          deploys, after the manual approval, exactly the package staging served and passed.
          The package must still be Approved in the registry. When --from serves no model
          yet, it prints nothing and exits 0 (a note on stderr): the pipeline still deploys
          the infrastructure, and the later environments keep cdk.json's model_package_arn
          ("none": no endpoint). --require makes that exit 1 instead.
history   lists the parameter's values, newest first; --previous prints only the last value
          before the current one. Roll back with
              npx cdk deploy -c mlops.model_package_arn.prod=<previous> '<prod stacks>'
          (the next pipeline run promotes dev's model again unless it is rejected first).
Exit 0: done; 1: nothing served / not approved; 2: usage or AWS error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.config import MODEL_PACKAGE_CONTEXT as CONTEXT_KEY  # a stdlib-only module: cheap to import
from tools.aws_cli import (
    DEFAULT_CDK_JSON,
    FAILED,
    OK,
    ClientFactory,
    ToolError,
    add_aws_arguments,
    client_factory,
    error_code,
    load_environment,
    run,
)


def served_arn(ssm, parameter: str) -> str | None:
    """The ARN the parameter holds; None when it is absent or holds no ARN ("none")."""
    from botocore.exceptions import ClientError

    try:
        value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return None
        raise
    return value if value.startswith("arn:") else None


def validated(environment: str, arn: str, cdk_json: Path) -> str:
    """The ARN, checked exactly as the app checks the -c override it becomes."""
    from infra.config import ConfigError, load_config

    try:
        load_config(json.loads(cdk_json.read_text())["context"]["mlops"], model_package_arns={environment: arn})
    except ConfigError as error:
        raise ToolError(f"the served value cannot be promoted: {error}") from None
    return arn


def approval_status(sagemaker, arn: str) -> str:
    return sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"]


def later_environments(source: str) -> list[str]:
    from infra.config import ENVIRONMENT_NAMES

    if source not in ENVIRONMENT_NAMES:
        raise ToolError(f"unknown environment {source!r} (have: {', '.join(ENVIRONMENT_NAMES)})")
    return list(ENVIRONMENT_NAMES[ENVIRONMENT_NAMES.index(source) + 1 :])


def history(ssm, parameter: str) -> list[dict]:
    """The parameter's versions, newest first."""
    from botocore.exceptions import ClientError

    versions = []
    try:
        for page in ssm.get_paginator("get_parameter_history").paginate(Name=parameter):
            versions += page["Parameters"]
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return []
        raise
    return sorted(versions, key=lambda v: v["Version"], reverse=True)


def cmd_current(args, clients: ClientFactory) -> int:
    config = load_environment(args.env, args.cdk_json)
    arn = served_arn(clients("ssm"), config.served_model_parameter)
    if arn is None:
        print(f"{args.env} serves no model ({config.served_model_parameter} is absent or none)", file=sys.stderr)
        return FAILED
    print(arn)
    return OK


def cmd_context(args, clients: ClientFactory) -> int:
    config = load_environment(args.source, args.cdk_json)
    later = later_environments(args.source)
    if not later:
        raise ToolError(f"{args.source} is the last environment: there is nothing to promote it to")
    # The source itself too: the same synth redeploys its stacks, which must keep serving it.
    targets = [args.source, *later]
    arn = served_arn(clients("ssm"), config.served_model_parameter)
    if arn is None:
        note = f"{args.source} serves no model yet: {', '.join(targets)} keep cdk.json's model_package_arn"
        print(("error: " if args.require else "note: ") + note, file=sys.stderr)
        return FAILED if args.require else OK
    arguments = " ".join(f"-c {CONTEXT_KEY}{env}={validated(env, arn, args.cdk_json)}" for env in targets)
    status = approval_status(clients("sagemaker"), arn)
    if status != "Approved":  # rejected since it was deployed: never promote it further
        print(f"error: {arn} is {status} in the model registry, not Approved: not promoting it", file=sys.stderr)
        return FAILED
    print(arguments)
    return OK


def cmd_history(args, clients: ClientFactory) -> int:
    config = load_environment(args.env, args.cdk_json)
    versions = history(clients("ssm"), config.served_model_parameter)
    if not versions:
        print(f"{args.env} has never served a model ({config.served_model_parameter} does not exist)", file=sys.stderr)
        return FAILED
    if args.previous:
        current = versions[0]["Value"]
        earlier = next((v["Value"] for v in versions if v["Value"] != current and v["Value"].startswith("arn:")), None)
        if earlier is None:
            print(f"{args.env} has served no other model before {current}", file=sys.stderr)
            return FAILED
        print(earlier)
        return OK
    for index, version in enumerate(versions):
        modified = version["LastModifiedDate"].strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        marker, user = "current " if index == 0 else " " * 8, version.get("LastModifiedUser", "?")
        print(f"{marker}v{version['Version']:<4} {modified:<23} {user}  {version['Value']}")
    return OK


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.promotion", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cdk-json", type=Path, default=DEFAULT_CDK_JSON, help="default: ./cdk.json")
    commands = parser.add_subparsers(dest="command", required=True)
    current = commands.add_parser("current", help="print the model package ARN an environment serves")
    current.add_argument("--env", required=True)
    context = commands.add_parser("context", help="print cdk -c arguments promoting --from's model onwards")
    context.add_argument("--from", dest="source", required=True, help="the environment whose model to promote")
    context.add_argument("--require", action="store_true", help="exit 1 when --from serves no model")
    past = commands.add_parser("history", help="list the model packages an environment has served, newest first")
    past.add_argument("--env", required=True)
    past.add_argument("--previous", action="store_true", help="print only the last ARN before the current one")
    for sub in (current, context, past):
        add_aws_arguments(sub)
    return parser.parse_args(argv)


COMMANDS = {"current": cmd_current, "context": cmd_context, "history": cmd_history}


def main(argv: list[str] | None = None, clients: ClientFactory | None = None) -> int:
    """``clients``: service name -> boto3 client (tests pass stubbed ones)."""
    args = parse_args(argv)

    def command() -> int:
        environment = args.source if args.command == "context" else args.env
        region = args.region or load_environment(environment, args.cdk_json).region
        return COMMANDS[args.command](args, clients or client_factory(region, args.assume_role_arn))

    return run(command)


if __name__ == "__main__":
    sys.exit(main())
