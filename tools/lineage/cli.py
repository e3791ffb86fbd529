"""Lineage of one model package: its data, code, parameters, metrics, approval and where it serves.

    python -m tools.lineage --local-root build/demo                 # the newest version of make demo's registry
    python -m tools.lineage --local-root build/demo --version 2 --json
    python -m tools.lineage --env dev                               # the newest version of dev's group
    python -m tools.lineage --env prod --latest-approved [--assume-role-arn ROLE]
    python -m tools.lineage --env staging --package-arn arn:aws:sagemaker:...:model-package/<group>/<n>

Which version: --package-arn, --version N (local registry only), --latest-approved (the newest
Approved), else the newest version of the group (--group locally when the registry has several).

From the registry (the local runner's <root>/registry, or the environment's SageMaker Model
Registry): the package (ARN, creation, model data, pipeline execution), its approval status and
history (locally the registry's ApprovalHistory; on AWS the registration and CloudTrail's
UpdateModelPackage events, which CloudTrail keeps 90 days), the pipeline execution's parameter
values, and where it serves: on AWS the environment's endpoint variants that serve it, with
weight and share of the requests; locally nothing on disk records a served version, so it
says "not deployed (local registry)" and which version `local_runner serve` would pick.

From MLflow, through the package's CustomerMetadataProperties MlflowRunId and MlflowTrackingUri:
the training run and the other runs of its pipeline execution (tag pipeline.execution_id) or
linked to it (tags training_run_id, model_package_arn): data (the data.<input> URIs each step
read), code (tag code.version), parameters (the training run's), metrics (each training curve's
final value, best validation accuracy, the Evaluate run's metrics), training health, and whether
the run names this package back. The store: --tracking-uri if given; locally the version's
recorded SQLite store, else sqlite:///<root>/mlflow.db; on AWS the recorded URI (an MLflow App
ARN, signed by the sagemaker-mlflow plugin with your credentials).

When tracking is off for the package, the store is unreachable or the run is gone, the registry
facts are still printed, with one line saying why the run could not be read. That is exit 0 (the
registry's answer is the lineage of record); --require-tracking makes it exit 1.
Exit 0: printed; 1: tracking facts missing with --require-tracking; 2: usage, registry or AWS error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tools.aws_cli import (
    DEFAULT_CDK_JSON,
    FAILED,
    OK,
    ClientFactory,
    add_aws_arguments,
    client_factory,
    load_environment,
    run,
)
from tools.lineage.package import tracking_reference
from tools.lineage.report import lineage_lines
from tools.lineage.tracking import OK_STATE, read_tracking


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.lineage", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--local-root", type=Path, help="the local runner's root (its registry: <root>/registry)")
    source.add_argument("--env", help="an environment of cdk.json (its region, registry group and endpoint)")
    which = parser.add_argument_group("which version (default: the newest of the group)")
    picks = which.add_mutually_exclusive_group()
    picks.add_argument("--package-arn", help="the model package version's ARN")
    picks.add_argument("--version", type=int, help="version number in the local registry (--local-root only)")
    picks.add_argument("--latest-approved", action="store_true", help="the newest Approved version")
    which.add_argument("--group", help="local model package group (default: the registry's only group)")
    aws = parser.add_argument_group("AWS (--env)")
    aws.add_argument("--cdk-json", type=Path, default=DEFAULT_CDK_JSON, help="default: ./cdk.json")
    add_aws_arguments(parser)  # --region, --assume-role-arn (--env only)
    parser.add_argument("--tracking-uri", help="MLflow tracking URI to read instead of the package's MlflowTrackingUri")
    parser.add_argument("--require-tracking", action="store_true", help="exit 1 when the MLflow facts are missing")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of sections")
    args = parser.parse_args(argv)
    if args.env and (args.group or args.version is not None):
        parser.error("--group and --version are for --local-root; on AWS use --package-arn or --latest-approved")
    if args.local_root and (args.region or args.assume_role_arn):
        parser.error("--region and --assume-role-arn are for --env")
    return args


def lineage(args: argparse.Namespace, clients: ClientFactory | None) -> dict[str, Any]:
    if args.local_root:
        from tools.lineage.local import local_lineage, tracking_uri

        package, facts = local_lineage(
            args.local_root, args.group, args.version, args.package_arn, args.latest_approved
        )
        run_id, _ = tracking_reference(package, None)
        uri = args.tracking_uri or tracking_uri(package, args.local_root)
    else:
        from tools.lineage.aws import aws_lineage

        config = load_environment(args.env, args.cdk_json)
        factory = clients or client_factory(args.region or config.region, args.assume_role_arn)
        package, facts = aws_lineage(factory, config, args.package_arn, args.latest_approved)
        run_id, uri = tracking_reference(package, args.tracking_uri)
    facts["tracking"] = read_tracking(run_id, uri, str(package.get("ModelPackageArn", "")))
    return facts


def main(argv: list[str] | None = None, clients: ClientFactory | None = None) -> int:
    """``clients``: service name -> boto3 client (tests pass stubbed ones)."""
    args = parse_args(argv)

    def command() -> int:
        facts = lineage(args, clients)
        if args.json:
            print(json.dumps(facts, indent=2, default=str))
        else:
            print("\n".join(lineage_lines(facts)))
        tracked = facts["tracking"]["state"] == OK_STATE
        return FAILED if args.require_tracking and not tracked else OK

    return run(command)


if __name__ == "__main__":
    sys.exit(main())
