"""The definition a local run executes: the app's own, built by infra's build_pipeline.

``build_local_definition`` calls the same ``infra.pipeline.definition.build_pipeline`` the
CDK app calls, with the environment's config from cdk.json; only the values CloudFormation
would fill in (role ARN, bucket names, KMS key, code asset URI) are local stand-ins, and the
Feature Store group name is empty because there is no local Feature Store (Preprocess then
skips ingestion, as its ``--feature-group-name`` help says). Image URIs are the real ones
(resolved offline); they are recorded, not pulled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_runner.errors import DefinitionError, ParameterError

ROOT = Path(__file__).resolve().parent.parent
LOCAL_ACCOUNT = "000000000000"
# Stand-ins for what CloudFormation resolves on AWS; each becomes a folder under <run>/s3.
RAW_BUCKET = "local-raw"
WORK_BUCKET = "local-features"
MODELS_URI = "s3://local-models"
CODE_URI = "s3://local-assets/ml_code.tar.gz"


@dataclass(frozen=True)
class LocalDefinition:
    definition: dict
    pipeline_name: str
    region: str
    base_model: str  # the model id the definition carries (cdk.json pipeline.base_model)
    stand_ins: dict[str, str]


def load_environment_config(environment: str, cdk_json: Path = ROOT / "cdk.json"):
    from infra.config import load_config

    configs = load_config(json.loads(cdk_json.read_text())["context"]["mlops"])
    if environment not in configs:
        raise DefinitionError(f"no environment {environment!r} in {cdk_json} (have: {', '.join(configs)})")
    return configs[environment]


def build_local_definition(environment: str = "dev") -> LocalDefinition:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import logging

    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from infra.pipeline.definition import build_pipeline
    from infra.pipeline.images import image_uris_for
    from local_runner.tracking import code_version

    config = load_environment_config(environment)
    images = image_uris_for(config.region)
    stand_ins = {
        "role_arn": f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{config.prefix}-pipeline-local",
        "code_uri": CODE_URI,
        "default_input_uri": f"s3://{RAW_BUCKET}/womens-clothing-reviews/",
        "work_bucket": WORK_BUCKET,
        "models_uri": MODELS_URI,
        "kms_key_arn": f"arn:aws:kms:{config.region}:{LOCAL_ACCOUNT}:key/local",
        "feature_group_name": "",
        "model_package_group": config.model_package_group_name,
    }
    pipeline = build_pipeline(
        config,
        name=config.pipeline_name,
        images={"training": images.training, "processing": images.processing, "inference": images.inference},
        code_version=code_version(),
        **stand_ins,
    )
    definition = json.loads(pipeline.definition())
    return LocalDefinition(definition, pipeline.name, config.region, config.pipeline.base_model, stand_ins)


# -- parameters --------------------------------------------------------------------------
def _cast(name: str, kind: str, raw: Any) -> Any:
    try:
        if kind == "Integer":
            if isinstance(raw, str) and not raw.strip().lstrip("+-").isdigit():
                raise ValueError
            return int(raw)
        if kind == "Float":
            return float(raw)
        if kind == "Boolean":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("true", "false"):
                return str(raw).lower() == "true"
            raise ValueError
        return str(raw)
    except (TypeError, ValueError):
        raise ParameterError(f"parameter {name} is {kind}: {raw!r} is not a valid {kind.lower()}") from None


def resolve_parameters(definition: dict, overrides: dict[str, str]) -> tuple[dict[str, Any], set[str]]:
    """(typed value of every parameter: override or default, names that were overridden)."""
    declared = {p["Name"]: p for p in definition.get("Parameters") or []}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise ParameterError(f"no pipeline parameter {', '.join(unknown)} (parameters: {', '.join(declared)})")
    values = {}
    for name, spec in declared.items():
        kind = spec.get("Type", "String")
        if name in overrides:
            value = _cast(name, kind, overrides[name])
        elif "DefaultValue" in spec:
            value = _cast(name, kind, spec["DefaultValue"])
        else:
            raise ParameterError(f"parameter {name} has no default: give it with --param {name}=VALUE")
        allowed = spec.get("EnumValues")
        if allowed and value not in allowed:
            raise ParameterError(f"parameter {name}: {value!r} is not one of {', '.join(map(str, allowed))}")
        values[name] = value
    return values, set(overrides)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """["MinAccuracy=0.7", ...] -> {"MinAccuracy": "0.7"}."""
    result = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param expects NAME=VALUE, got {item!r}")
        result[name.strip()] = value
    return result


# -- the base model override ---------------------------------------------------------------
def steps_reading_uri(definition: dict, uri: str) -> list[str]:
    """Where a step reads ``uri`` as an S3 input: a processing input or a training channel
    (the staged base model: pipeline.base_model = s3://..., see tools/stage_base_model.py)."""
    from local_runner.executor import all_steps

    readers = []
    for step in all_steps(definition.get("Steps") or []):
        arguments = step.get("Arguments") or {}
        for item in arguments.get("ProcessingInputs") or []:
            if (item.get("S3Input") or {}).get("S3Uri") == uri:
                readers.append(f"{step['Name']}: input {item.get('InputName')}")
        for channel in arguments.get("InputDataConfig") or []:
            if ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri") == uri:
                readers.append(f"{step['Name']}: channel {channel.get('ChannelName')}")
    if not readers:
        raise DefinitionError(f"--base-model: no step of the definition reads {uri}; nothing to stage")
    return readers


def override_base_model(definition: dict, hub_name: str, local_dir: str) -> list[str]:
    """Replace the hub model id ``hub_name`` by ``local_dir`` wherever a step passes it as a value:
    processing ContainerArguments and training HyperParameters. Returns what was rewritten;
    raises if the definition never mentions ``hub_name`` (an override that does nothing is a mistake)."""
    from local_runner.executor import all_steps

    changes = []
    for step in all_steps(definition.get("Steps") or []):
        arguments = step.get("Arguments") or {}
        app = arguments.get("AppSpecification") or {}
        container_args = app.get("ContainerArguments") or []
        for index, value in enumerate(container_args):
            if value == hub_name:
                container_args[index] = local_dir
                changes.append(f"{step['Name']}: ContainerArguments[{index}] {hub_name} -> {local_dir}")
        hyperparameters = arguments.get("HyperParameters") or {}
        for key, value in hyperparameters.items():
            if isinstance(value, str) and value in (hub_name, json.dumps(hub_name)):
                hyperparameters[key] = json.dumps(local_dir)
                changes.append(f"{step['Name']}: HyperParameters.{key} {hub_name} -> {local_dir}")
    if not changes:
        raise DefinitionError(f"--base-model: the definition never passes {hub_name!r} to a step; nothing to replace")
    return changes


def network_note(definition: dict) -> str | None:
    """One line for the run when the definition places steps in a VPC or isolates them: the
    local runner ignores both (steps are processes of this machine)."""
    vpc, isolated = set(), set()

    def visit(steps: list[dict]) -> None:
        for step in steps:
            args = step.get("Arguments") or {}
            network = args.get("NetworkConfig") or {}
            if network.get("VpcConfig") or args.get("VpcConfig"):
                vpc.add(step["Name"])
            if network.get("EnableNetworkIsolation") or args.get("EnableNetworkIsolation"):
                isolated.add(step["Name"])
            visit(list(args.get("IfSteps") or []) + list(args.get("ElseSteps") or []))

    visit(definition.get("Steps") or [])
    if not vpc and not isolated:
        return None
    parts = []
    if vpc:
        parts.append(f"VPC subnets and security groups of {', '.join(sorted(vpc))}")
    if isolated:
        parts.append(f"network isolation of {', '.join(sorted(isolated))}")
    return " and ".join(parts) + " have no local meaning: ignored (steps run as processes of this machine)"
