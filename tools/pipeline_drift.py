"""Does the deployed SageMaker pipeline still run the definition this commit synthesizes?

    python -m tools.pipeline_drift --env staging [--cdk-out cdk.out] [--resolve] [--param NAME=VALUE ...]

Compares ``DescribePipeline``'s definition with the ``AWS::SageMaker::Pipeline`` of the same
name in the synthesized templates (``make synth`` first), structurally, and prints each
difference as a path, e.g.
    Steps[Train].Arguments.HyperParameters.epochs: synthesized "3", deployed "1"
The synthesized body holds CloudFormation intrinsics where the deployed one has values
(asset and data buckets, KMS key, role): each unresolved intrinsic is a hole that matches
any text, as long as it matches the same text everywhere it appears. AWS::Region,
AWS::AccountId and AWS::Partition come from cdk.json; --param and --resolve turn more holes
into exact text. Exit 0: no drift; 1: drift; 2: usage or AWS error.
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
    ToolError,
    add_aws_arguments,
    client_factory,
    error_code,
    load_environment,
    run,
)
from tools.definition_pattern import PatternError, build_pattern, compare, values_resolver

PIPELINE_TYPE = "AWS::SageMaker::Pipeline"


def find_synthesized(cdk_out: Path, pipeline_name: str) -> tuple[Path, Any]:
    """(template file, PipelineDefinitionBody) of the pipeline named ``pipeline_name`` under ``cdk_out``."""
    if not cdk_out.is_dir():
        raise ToolError(f"{cdk_out} is not a directory: run `make synth` first or pass --cdk-out")
    found: dict[Path, Any] = {}
    # Nested assemblies (a stage per folder, or stages inside the delivery pipeline's assembly).
    for template_file in sorted(cdk_out.rglob("*.template.json")):
        resources = json.loads(template_file.read_text()).get("Resources", {})
        for logical_id, resource in resources.items():
            properties = resource.get("Properties", {})
            if resource.get("Type") == PIPELINE_TYPE and properties.get("PipelineName") == pipeline_name:
                definition = properties.get("PipelineDefinition", {})
                if "PipelineDefinitionBody" not in definition:
                    raise ToolError(f"{template_file} {logical_id}: only PipelineDefinitionBody is supported, not S3")
                found[template_file] = definition["PipelineDefinitionBody"]
    if not found:
        raise ToolError(f"no {PIPELINE_TYPE} named {pipeline_name!r} in {cdk_out}/**/*.template.json")
    bodies = {json.dumps(body, sort_keys=True) for body in found.values()}
    if len(bodies) > 1:  # e.g. a stale assembly beside a fresh one: refuse to guess
        raise ToolError(f"{pipeline_name!r} differs between {', '.join(map(str, found))}: pass --template")
    return next(iter(found.items()))


def read_template(template_file: Path, pipeline_name: str) -> Any:
    if not template_file.is_file():
        raise ToolError(f"{template_file}: no such file")
    for resource in json.loads(template_file.read_text()).get("Resources", {}).values():
        properties = resource.get("Properties", {})
        if resource.get("Type") == PIPELINE_TYPE and properties.get("PipelineName") == pipeline_name:
            return properties.get("PipelineDefinition", {}).get("PipelineDefinitionBody")
    raise ToolError(f"{template_file}: no {PIPELINE_TYPE} named {pipeline_name!r}")


def stack_name_of(template_file: Path) -> str:
    """The stack a template deploys as, from its assembly's manifest.json."""
    manifest = template_file.parent / "manifest.json"
    try:
        artifacts = json.loads(manifest.read_text())["artifacts"].values()
    except (OSError, KeyError, json.JSONDecodeError) as error:
        raise ToolError(f"cannot read the stack name from {manifest}: {error}") from None
    for artifact in artifacts:
        properties = artifact.get("properties", {})
        if artifact.get("type") == "aws:cloudformation:stack" and properties.get("templateFile") == template_file.name:
            return properties.get("stackName") or template_file.name.removesuffix(".template.json")
    raise ToolError(f"{manifest} lists no stack for {template_file.name}")


def pseudo_parameters(account: str, region: str) -> dict[str, str]:
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": partition, "AWS::URLSuffix": suffix}


def values_from_aws(clients: ClientFactory, stack_name: str) -> dict[str, str]:
    """Export values (Fn::ImportValue) and this stack's physical resource ids (Ref to a resource)."""
    cloudformation = clients("cloudformation")
    values = {}
    for page in cloudformation.get_paginator("list_exports").paginate():
        values.update({export["Name"]: export["Value"] for export in page["Exports"]})
    # Ref of most resource types, IAM roles and buckets included, is the physical id.
    for resource in cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]:
        if resource.get("PhysicalResourceId"):
            values[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return values


def deployed_definition(clients: ClientFactory, pipeline_name: str) -> Any:
    from botocore.exceptions import ClientError

    try:
        text = clients("sagemaker").describe_pipeline(PipelineName=pipeline_name)["PipelineDefinition"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFound":
            raise ToolError(f"pipeline {pipeline_name!r} is not deployed in this account and region") from None
        raise
    return _parse(text, f"the deployed definition of {pipeline_name}")


def _parse(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ToolError(f"{what} is not JSON: {error}") from None


def _param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.pipeline_drift", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", required=True, help="environment in cdk.json (dev, staging, prod)")
    parser.add_argument("--cdk-json", type=Path, default=DEFAULT_CDK_JSON, help="default: ./cdk.json")
    parser.add_argument("--cdk-out", type=Path, default=Path("cdk.out"), help="cloud assembly (default: ./cdk.out)")
    parser.add_argument("--template", type=Path, help="the stack template to read instead of searching --cdk-out")
    parser.add_argument("--pipeline-name", help="default: the environment's pipeline name from cdk.json")
    parser.add_argument(
        "--deployed-file", type=Path, help="compare with this definition JSON instead of calling DescribePipeline"
    )
    parser.add_argument(
        "--param",
        type=_param,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of an intrinsic: a Ref name, an export name (ImportValue) or Logical.Attribute (GetAtt)",
    )
    parser.add_argument(
        "--resolve",
        action="store_true",
        help="also resolve exports (ListExports) and this stack's resources (DescribeStackResources) in AWS",
    )
    parser.add_argument("--show-holes", action="store_true", help="print the value each unresolved intrinsic matched")
    add_aws_arguments(parser)
    return parser.parse_args(argv)


def check(args: argparse.Namespace, clients: ClientFactory | None) -> int:
    config = load_environment(args.env, args.cdk_json)
    name = args.pipeline_name or config.pipeline_name
    region = args.region or config.region
    if args.template:
        template_file, body = args.template, read_template(args.template, name)
    else:
        template_file, body = find_synthesized(args.cdk_out, name)
    needs_aws = args.resolve or not args.deployed_file
    clients = clients or (client_factory(region, args.assume_role_arn) if needs_aws else None)
    values = pseudo_parameters(config.account, region)
    if args.resolve:
        assert clients is not None, "needs_aws"
        values.update(values_from_aws(clients, stack_name_of(template_file)))
    values.update(dict(args.param))  # the operator's word last
    try:
        pattern = build_pattern(body, values_resolver(values))
    except PatternError as error:
        raise ToolError(f"{template_file}: {error}") from None
    if args.deployed_file:
        if not args.deployed_file.is_file():
            raise ToolError(f"{args.deployed_file}: no such file")
        deployed = _parse(args.deployed_file.read_text(), str(args.deployed_file))
    else:
        assert clients is not None, "needs_aws"
        deployed = deployed_definition(clients, name)
    differences, matched = compare(pattern, deployed)
    if args.show_holes:
        for label, value in sorted(matched.items()):
            print(f"hole {label} = {json.dumps(value)}")
    source = args.deployed_file or f"deployed {name} ({region})"
    if not differences:
        holes = f"{len(matched)} unresolved intrinsic(s) matched consistently in {len(pattern.holes)} place(s)"
        print(f"no drift: {source} matches {template_file}; {holes}")
        return OK
    print(f"drift: {len(differences)} difference(s) between {template_file} (synthesized) and {source}")
    for difference in differences:
        print(difference)
    return FAILED


def main(argv: list[str] | None = None, clients: ClientFactory | None = None) -> int:
    """``clients``: service name -> boto3 client (tests pass stubbed ones)."""
    args = parse_args(argv)
    return run(lambda: check(args, clients))


if __name__ == "__main__":
    sys.exit(main())
