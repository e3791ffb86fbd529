"""What the operator/post-deploy tools share: exit codes, config lookup, AWS clients, errors.

Exit codes, the same for every tool so a CodeBuild step can tell them apart:
  0  the check passed (or the command did its job)
  1  the check ran and failed (drift, a malformed prediction, nothing to promote when required)
  2  the check could not run: bad usage, missing files, AWS errors (access, throttling, not found)

Clients come from a ``ClientFactory`` (service name -> boto3 client) so tests inject
Stubber-wrapped clients; nothing is created at import time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

OK, FAILED, ERROR = 0, 1, 2
DEFAULT_CDK_JSON = Path("cdk.json")

ClientFactory = Callable[[str], Any]


class ToolError(Exception):
    """The tool cannot do its job (usage, files, AWS); exit 2 with this message."""


def load_environment(environment: str, cdk_json: Path = DEFAULT_CDK_JSON):
    """The typed config of one environment from cdk.json, validated exactly as the app does."""
    from infra.config import ConfigError, load_config

    try:
        context = json.loads(cdk_json.read_text())["context"]["mlops"]
        configs = load_config(context)
    except FileNotFoundError:
        raise ToolError(f"{cdk_json} not found: run from the project root or pass --cdk-json") from None
    except (KeyError, json.JSONDecodeError, ConfigError) as error:
        raise ToolError(f"{cdk_json}: {error}") from None
    if environment not in configs:
        raise ToolError(f"no environment {environment!r} in {cdk_json} (have: {', '.join(configs)})")
    return configs[environment]


def add_aws_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--region", help="AWS region (default: the environment's region from cdk.json)")
    parser.add_argument(
        "--assume-role-arn",
        help="role to assume first, e.g. in the environment's account when run from the delivery account",
    )


def client_factory(region: str | None, role_arn: str | None = None) -> ClientFactory:
    """boto3 clients in ``region``, as the default credentials or as ``role_arn``."""
    import boto3

    session = boto3.Session(region_name=region)
    if role_arn:
        credentials = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="mlops-tools")["Credentials"]
        session = boto3.Session(
            region_name=region,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    return session.client


def aws_error_message(error: Exception) -> str:
    """'DescribePipeline: ResourceNotFound: Pipeline ... does not exist' for a ClientError."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        operation = getattr(error, "operation_name", "AWS call")
        return f"{operation}: {response['Error'].get('Code', '?')}: {response['Error'].get('Message', '')}"
    return str(error)


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code", "") if isinstance(response, dict) else ""


def run(command: Callable[[], int]) -> int:
    """Run a tool's body, turning expected failures into a one-line message and exit 2."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return command()
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        print(f"AWS error: {aws_error_message(error)}", file=sys.stderr)
    return ERROR
