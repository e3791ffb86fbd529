"""One local pipeline execution: definition -> run folder -> steps -> run.json and report.md.

Run folder (``<root>/runs/<execution id>/``):

    definition.json         the definition as infra's build_pipeline built it
    definition.local.json   the same after --base-model (the only rewrite), as executed
    s3/<bucket>/<key>       the local S3: code bundle, input data, every step output
    steps/<step>/           arguments.json (evaluated), logs/<host>.log, <host>/opt/ml/... and
                            <host>/tmp/... (the container folders), metrics.json (training)
    bin/                    python3 -> this interpreter (the containers' python3)
    run.json, report.md     the summary
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from local_runner.definition import (
    CODE_URI,
    LOCAL_ACCOUNT,
    ROOT,
    build_local_definition,
    load_environment_config,
    network_note,
    override_base_model,
    resolve_parameters,
    steps_reading_uri,
)
from local_runner.errors import DefinitionError, LocalRunnerError
from local_runner.executor import ExecutionResult, PipelineExecution
from local_runner.local_s3 import LocalS3
from local_runner.processes import python_shim
from local_runner.registry import LocalRegistry
from local_runner.report import write_run_files
from local_runner.step_environment import Console
from local_runner.tracking import TRACKING_PARAMETER, apply_local_tracking, tracking_line

CONTAINER_ROOT = Path("/opt/ml")
SAMPLE_DATA = ROOT / "data" / "sample" / "womens_clothing_reviews_sample.csv.gz"
INPUT_PARAMETER = "InputDataUri"


@dataclass
class RunRequest:
    root: Path
    environment: str = "dev"
    definition_file: Path | None = None  # a definition JSON instead of building one
    pipeline_name: str | None = None  # with definition_file
    inputs: list[Path] = field(default_factory=lambda: [SAMPLE_DATA])
    base_model: Path | None = None
    params: dict[str, str] = field(default_factory=dict)
    registry: Path | None = None
    execution_id: str | None = None
    train_processes: int = 1
    verbose: bool = False


@dataclass
class RunOutcome:
    result: ExecutionResult
    run_dir: Path
    report: Path
    run_json: Path


def new_execution_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def registry_path(root: Path, registry: Path | None = None) -> Path:
    return Path(registry) if registry else Path(root) / "registry"


def run_pipeline(request: RunRequest, console: Console) -> RunOutcome:
    if request.train_processes < 1:
        raise LocalRunnerError("--train-processes must be at least 1")
    missing = [str(p) for p in request.inputs if not Path(p).exists()]
    if missing:
        raise LocalRunnerError(f"--input: no such file or folder: {', '.join(missing)}")
    if request.base_model is not None and not Path(request.base_model).is_dir():
        raise LocalRunnerError(
            f"--base-model {request.base_model}: not a folder (build one: python -m tools.tiny_roberta --with-model)"
        )

    config = load_environment_config(request.environment)
    if request.definition_file:
        definition = json.loads(Path(request.definition_file).read_text())
        pipeline_name = request.pipeline_name or Path(request.definition_file).stem
        source = f"definition file {request.definition_file}"
        stand_ins = {}
        base_model_name = config.pipeline.base_model
    else:
        console.print(
            "Building the pipeline definition with infra.pipeline.definition.build_pipeline"
            f" ({request.environment} config)"
        )
        built = build_local_definition(request.environment)
        definition, pipeline_name, stand_ins = built.definition, built.pipeline_name, built.stand_ins
        source = f"infra.pipeline.definition.build_pipeline, {request.environment} config from cdk.json"
        base_model_name = built.base_model
    # pipeline.base_model = s3://...: the steps read a staged model as inputs, which only
    # --base-model can put into the local S3 (the runner never reads the real one).
    staged_model = base_model_name.startswith("s3://")
    if staged_model and request.base_model is None:
        raise LocalRunnerError(
            f"the {request.environment} definition reads its base model from {base_model_name} (staged in S3),"
            " which the local S3 does not hold: pass --base-model DIR to stage a local model folder there"
        )

    execution_id = request.execution_id or new_execution_id()
    run_dir = (Path(request.root) / "runs" / execution_id).resolve()
    if run_dir.exists():
        raise LocalRunnerError(f"run folder {run_dir} exists already: choose another --execution-id")
    run_dir.mkdir(parents=True)
    (run_dir / "definition.json").write_text(json.dumps(definition, indent=2))

    differences = []
    overrides_applied = []
    host_paths: tuple[str, ...] = ()
    staged_base_model = {}
    if request.base_model is not None and staged_model:
        local_model = str(Path(request.base_model).resolve())
        readers = steps_reading_uri(definition, base_model_name)
        overrides_applied = [f"{reader} reads {base_model_name} <- staged from {local_model}" for reader in readers]
        differences.append(
            f"base model {base_model_name} (staged in S3) filled in the local S3 from the local model"
            f" {local_model} (--base-model)"
        )
        staged_base_model = {"uri": base_model_name, "from": local_model, "read_by": readers}
    elif request.base_model is not None:
        local_model = str(Path(request.base_model).resolve())
        overrides_applied = override_base_model(definition, base_model_name, local_model)
        differences.append(f"base model {base_model_name!r} replaced by the local model {local_model} (--base-model)")
        host_paths = (local_model,)
    (run_dir / "definition.local.json").write_text(json.dumps(definition, indent=2))
    parameters, overridden = resolve_parameters(definition, request.params)
    tracking_uri = apply_local_tracking(parameters, overridden, request.root)
    if tracking_uri and TRACKING_PARAMETER not in overridden:
        differences.append(f"TrackingUri (the environment's MLflow App on AWS) is the local store {tracking_uri}")
    if stand_ins:
        differences.append(
            "CloudFormation values replaced by local stand-ins: "
            + ", ".join(f"{k}={v!r}" for k, v in stand_ins.items() if k != "feature_group_name")
        )
        differences.append(
            "no Feature Store locally: the definition is built with an empty feature group name,"
            " so Preprocess skips ingestion"
        )

    registry = LocalRegistry(registry_path(request.root, request.registry).resolve())
    execution = PipelineExecution(
        definition,
        pipeline_name=pipeline_name,
        execution_id=execution_id,
        run_dir=run_dir,
        parameters=parameters,
        registry=registry,
        region=config.region,
        account=LOCAL_ACCOUNT,
        bin_dir=python_shim(run_dir / "bin"),
        console=console,
        train_processes=request.train_processes,
        host_paths=host_paths,
    )
    s3 = LocalS3(run_dir / "s3")
    code = stage_code(s3)
    if staged_base_model:
        staged_base_model["objects"] = len(s3.upload_dir(Path(staged_base_model["from"]), base_model_name))
    staged = _stage_inputs(s3, parameters.get(INPUT_PARAMETER), request.inputs)

    console.print(f"Local execution {execution_id} of pipeline {pipeline_name} ({source})")
    console.print(f"  run folder: {run_dir}")
    console.print(f"  registry:   {registry.root}")
    console.print(
        "  parameters: "
        + ", ".join(f"{k}={v}" + (" (override)" if k in overridden else "") for k, v in parameters.items())
    )
    for change in overrides_applied:
        console.print(f"  base model: {change}")
    if request.base_model is None:
        console.print(
            f"  base model: {base_model_name} as the definition says"
            " (needs the model hub; --base-model DIR runs offline)"
        )
    console.print(f"  code:       ml_code bundle -> {code}")
    console.print(f"  tracking:   {tracking_line(tracking_uri)}")
    network = network_note(definition)
    if network:
        console.print(f"  network:    {network}")
        differences.append(network)
    for line in staged:
        console.print(f"  input:      {line}")

    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    container_root_existed = CONTAINER_ROOT.exists()
    result = execution.run()
    if CONTAINER_ROOT.exists() and not container_root_existed:
        warning = (
            f"WARNING: {CONTAINER_ROOT} appeared on this machine during the run:"
            " a step used a container path the runner did not remap"
        )
        console.print(warning)
        differences.append(warning)
    extra = {
        "started_at": started_at,
        "definition_source": source,
        "overridden_parameters": sorted(overridden),
        "base_model_overrides": overrides_applied,
        "base_model_staged": staged_base_model or None,
        "local_differences": differences,
        "registry": str(registry.root),
        "run_dir": str(run_dir),
        "tracking_uri": tracking_uri,
    }
    run_json, report = write_run_files(result, run_dir, definition, extra)
    return RunOutcome(result, run_dir, report, run_json)


def stage_code(s3: LocalS3) -> str:
    """The ml_code tar.gz the stack ships (same builder), where the definition's code URI points."""
    from infra.pipeline.code_bundle import build_code_bundle

    target = s3.path(CODE_URI)
    built = build_code_bundle(target.parent)
    if built != target:
        shutil.move(built, target)
    return CODE_URI


def _stage_inputs(s3: LocalS3, input_uri, inputs: list[Path]) -> list[str]:
    """Copy the --input files/folders under the InputDataUri parameter's prefix ("upload" them)."""
    if not isinstance(input_uri, str) or not input_uri.startswith("s3://"):
        raise DefinitionError(f"parameter {INPUT_PARAMETER} must be an s3:// URI, got {input_uri!r}")
    lines = []
    prefix = input_uri if input_uri.endswith("/") else input_uri + "/"
    for source in inputs:
        source = Path(source)
        if source.is_dir():
            written = s3.upload_dir(source, prefix + source.name)
            lines.append(f"{source} ({len(written)} files) -> {prefix}{source.name}/")
        else:
            s3.put_file(source, prefix + source.name)
            lines.append(f"{source} -> {prefix}{source.name}")
    return lines
