"""`python -m local_runner monitor`: the monitoring pipeline (``<prefix>-monitor``) on this machine.

Builds the definition with the same ``infra.pipeline.monitor_definition.build_monitor_pipeline``
the stack calls (the environment's config from cdk.json), with local stand-ins for what
CloudFormation resolves (role, KMS key, buckets, the code asset, filled with the ml_code bundle
the stack ships, and the image, recorded and never pulled), and runs its one Processing step,
DriftMonitor (ml_code/monitor.py, Evidently), with the executor that runs the training
pipeline. Local parameter values, each printed and recorded in run.json:

    CaptureUri      <--capture-dir>/<endpoint name>: what ``serve --capture-dir`` wrote
    ReferenceUri    --reference, or the reference the newest Approved version of the local
                    registry records (CustomerMetadataProperties["MonitoringReferenceUri"],
                    an s3:// URI in its run's local S3)
    GroundTruthUri  --ground-truth, or "none"
    WindowHours     --window-hours (default: the config's monitoring.window_hours)
    PublishMetrics  false: there is no CloudWatch here; metrics.json is written all the same

``--window-end`` sets the execution's StartDateTime, the window's end: the job reads the
capture's whole hour folders before that hour.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from local_runner.definition import LOCAL_ACCOUNT, load_environment_config, resolve_parameters
from local_runner.errors import LocalRunnerError, RegistryError
from local_runner.executor import ExecutionResult, PipelineExecution
from local_runner.local_s3 import LocalS3
from local_runner.processes import python_shim
from local_runner.registry import LocalRegistry
from local_runner.report import write_run_files
from local_runner.runner import new_execution_id, registry_path, stage_code
from local_runner.step_environment import Console
from local_runner.tracking import apply_local_tracking
from ml_code.monitoring.reference import METADATA_KEY as REFERENCE_KEY  # what Register records

MONITORING_BUCKET = "local-monitoring"
NONE = "none"


@dataclass
class MonitorRequest:
    root: Path
    capture_dir: Path
    environment: str = "dev"
    reference: Path | None = None  # default: the newest Approved version's reference
    ground_truth: Path | None = None
    window_hours: int | None = None  # default: the definition's (config monitoring.window_hours)
    window_end: datetime | None = None  # default: now
    params: dict[str, str] = field(default_factory=dict)
    registry: Path | None = None
    group: str | None = None
    execution_id: str | None = None
    verbose: bool = False


@dataclass
class CaptureRunOutcome:
    """What a local monitor or compare run left: its result, folder, run.json, report folder."""

    result: ExecutionResult
    run_dir: Path
    run_json: Path
    report_dir: Path  # <reports>/<yyyy>/<mm>/<dd>/<hh>/ (may be missing when the job failed)


@dataclass(frozen=True)
class LocalMonitorDefinition:
    definition: dict
    pipeline_name: str
    endpoint_name: str
    reports_uri: str
    stand_ins: dict[str, str]


def build_local_monitor_definition(environment: str = "dev") -> LocalMonitorDefinition:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from infra.pipeline.monitor_definition import build_monitor_pipeline
    from local_runner.definition import CODE_URI
    from local_runner.tracking import code_version

    config = load_environment_config(environment)
    stand_ins = {
        "role_arn": f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{config.prefix}-monitor-local",
        "code_uri": CODE_URI,
        # containers/monitor, which the stack builds as a Docker image asset: recorded, not built or pulled.
        "image_uri": f"{LOCAL_ACCOUNT}.dkr.ecr.{config.region}.amazonaws.com/{config.prefix}-monitor:local",
        "capture_uri": f"s3://{MONITORING_BUCKET}/datacapture/{config.endpoint_name}",
        "reports_uri": f"s3://{MONITORING_BUCKET}/reports/{config.endpoint_name}",
        "kms_key_arn": f"arn:aws:kms:{config.region}:{LOCAL_ACCOUNT}:key/local",
        "work_bucket": MONITORING_BUCKET,
    }
    pipeline = build_monitor_pipeline(
        config,
        role_arn=stand_ins["role_arn"],
        code_uri=stand_ins["code_uri"],
        image_uri=stand_ins["image_uri"],
        capture_uri=stand_ins["capture_uri"],
        reports_uri=stand_ins["reports_uri"],
        kms_key_arn=stand_ins["kms_key_arn"],
        work_bucket=stand_ins["work_bucket"],
        code_version=code_version(),
    )
    definition = json.loads(pipeline.definition())
    return LocalMonitorDefinition(definition, pipeline.name, config.endpoint_name, stand_ins["reports_uri"], stand_ins)


def capture_folder(capture_dir: Path, endpoint_name: str) -> Path:
    """The endpoint's capture folder: <capture dir>/<endpoint name>, as ``serve --capture-dir`` writes it."""
    capture_dir = Path(capture_dir).resolve()
    for candidate in (capture_dir / endpoint_name, capture_dir):
        if candidate.name == endpoint_name and candidate.is_dir():
            return candidate
    raise LocalRunnerError(
        f"--capture-dir {capture_dir}: no folder {endpoint_name}/ in it (serve --capture-dir DIR writes"
        f" DIR/{endpoint_name}/<variant>/yyyy/mm/dd/hh/*.jsonl)"
    )


def approved_reference(registry: LocalRegistry, group: str | None) -> tuple[Path, str]:
    """(local path, description) of the newest Approved version's monitoring reference."""
    group = registry.resolve_group(group)
    try:
        package = registry.latest(group, status="Approved")
    except RegistryError:
        raise RegistryError(
            f"group {group!r} has no Approved version to take the reference from:"
            " approve one (python -m local_runner approve) or pass --reference PATH"
        ) from None
    version = package["ModelPackageVersion"]
    uri = (package.get("CustomerMetadataProperties") or {}).get(REFERENCE_KEY)
    if not uri:
        raise RegistryError(
            f"version {version} of {group!r} records no CustomerMetadataProperties[{REFERENCE_KEY!r}]"
            " (registered by an older pipeline?): pass --reference PATH"
        )
    run_folder = package.get("Local", {}).get("RunFolder")
    path = LocalS3(Path(run_folder) / "s3").path(uri) if run_folder else None
    if path is None or not path.exists():
        raise RegistryError(f"version {version}: its reference {uri} is not in its run folder ({path})")
    return path, f"{group} version {version} (Approved): {uri}"


@dataclass
class CaptureRun:
    """A capture job's local execution, ready to run: parameters resolved, run folder made,
    code staged into its local S3."""

    execution: PipelineExecution
    run_dir: Path
    s3: LocalS3
    code: str
    parameters: dict
    overridden: set


def prepare_capture_run(
    *,
    root: Path,
    registry: Path | None,
    environment: str,
    execution_id: str | None,
    id_prefix: str,
    definition: dict,
    pipeline_name: str,
    overrides: dict,
    host_paths: tuple[str, ...],
    window_end: datetime | None,
    console: Console,
) -> CaptureRun:
    """The part of ``monitor`` and ``compare`` that is the same: ``host_paths`` are folders
    passed as parameters (never container paths, even under /tmp); ``window_end`` sets the
    execution's start time, so the window."""
    parameters, overridden = resolve_parameters(definition, overrides)
    apply_local_tracking(parameters, overridden, root)  # TrackingUri: <root>/mlflow.db unless given
    execution_id = execution_id or f"{id_prefix}-" + new_execution_id()
    run_dir = (Path(root) / "runs" / execution_id).resolve()
    if run_dir.exists():
        raise LocalRunnerError(f"run folder {run_dir} exists already: choose another --execution-id")
    run_dir.mkdir(parents=True)
    (run_dir / "definition.json").write_text(json.dumps(definition, indent=2))
    config = load_environment_config(environment)
    execution = PipelineExecution(
        definition,
        pipeline_name=pipeline_name,
        execution_id=execution_id,
        run_dir=run_dir,
        parameters=parameters,
        registry=LocalRegistry(registry_path(root, registry).resolve()),
        region=config.region,
        account=LOCAL_ACCOUNT,
        bin_dir=python_shim(run_dir / "bin"),
        console=console,
        host_paths=host_paths,
        start_time=window_end,
    )
    s3 = LocalS3(run_dir / "s3")
    return CaptureRun(execution, run_dir, s3, stage_code(s3), parameters, set(overridden))


def run_monitor(request: MonitorRequest, console: Console) -> CaptureRunOutcome:
    built = build_local_monitor_definition(request.environment)
    capture = capture_folder(request.capture_dir, built.endpoint_name)
    if request.reference is not None:
        if not Path(request.reference).exists():
            raise LocalRunnerError(f"--reference {request.reference}: no such file or folder")
        reference, reference_source = Path(request.reference).resolve(), "--reference"
    else:
        registry = LocalRegistry(registry_path(request.root, request.registry).resolve())
        reference, reference_source = approved_reference(registry, request.group)
    ground_truth = None
    if request.ground_truth is not None:
        ground_truth = Path(request.ground_truth).resolve()
        if not ground_truth.exists():
            raise LocalRunnerError(f"--ground-truth {request.ground_truth}: no such file or folder")

    overrides = {
        **request.params,
        "CaptureUri": str(capture),
        "ReferenceUri": str(reference),
        "GroundTruthUri": str(ground_truth) if ground_truth else NONE,
        "PublishMetrics": "false",
    }
    if request.window_hours is not None:
        overrides["WindowHours"] = str(request.window_hours)
    run = prepare_capture_run(
        root=request.root,
        registry=request.registry,
        environment=request.environment,
        execution_id=request.execution_id,
        id_prefix="monitor",
        definition=built.definition,
        pipeline_name=built.pipeline_name,
        overrides=overrides,
        host_paths=tuple(str(p) for p in (capture, reference, ground_truth) if p is not None),
        window_end=request.window_end,
        console=console,
    )
    execution, run_dir, s3, code = run.execution, run.run_dir, run.s3, run.code
    execution_id = run_dir.name
    parameters, overridden = run.parameters, run.overridden

    source = f"infra.pipeline.monitor_definition.build_monitor_pipeline, {request.environment} config"
    console.print(f"Local execution {execution_id} of pipeline {built.pipeline_name} ({source})")
    console.print(f"  run folder:   {run_dir}")
    given = ", --window-end" if request.window_end else ""
    console.print(
        f"  window end:   {execution.start_datetime} (Execution.StartDateTime{given});"
        f" {parameters['WindowHours']} hour(s) before it"
    )
    console.print(f"  capture:      {capture}")
    console.print(f"  reference:    {reference} ({reference_source})")
    console.print(f"  ground truth: {ground_truth or 'none'}")
    console.print(
        "  parameters:   "
        + ", ".join(f"{k}={v}" + (" (local)" if k in overridden else "") for k, v in parameters.items())
    )
    console.print(f"  code:         ml_code bundle -> {code}")
    console.print(f"  image:        {built.stand_ins['image_uri']} (recorded, not pulled: this machine's Python runs)")
    console.print("  metrics:      PublishMetrics=false: written to metrics.json, not published (no CloudWatch here)")

    result = execution.run()
    report_dir = s3.path(built.reports_uri) / _hour_folder(execution.start_datetime)
    extra = {
        "definition_source": source,
        "overridden_parameters": sorted(overridden),
        "local_differences": [
            "CloudFormation values replaced by local stand-ins: "
            + ", ".join(f"{k}={v!r}" for k, v in built.stand_ins.items()),
            "CaptureUri, ReferenceUri and GroundTruthUri are folders of this machine (the job reads local paths"
            " as it reads s3:// URIs); PublishMetrics=false: no CloudWatch",
        ],
        "monitoring": {
            "capture": str(capture),
            "reference": str(reference),
            "reference_source": reference_source,
            "ground_truth": str(ground_truth) if ground_truth else None,
            "window_end": execution.start_datetime,
            "report_dir": str(report_dir),
        },
        "run_dir": str(run_dir),
    }
    run_json, _ = write_run_files(result, run_dir, built.definition, extra)
    return CaptureRunOutcome(result, run_dir, run_json, report_dir)


def _hour_folder(start_datetime: str) -> str:
    """yyyy/mm/dd/hh of the window end, where ml_code/monitor.py writes its report."""
    return "/".join((start_datetime[0:4], start_datetime[5:7], start_datetime[8:10], start_datetime[11:13]))


def summary_lines(report_dir: Path) -> list[str]:
    """What report.json says: records, drifted features (score vs threshold), model quality."""
    report_json = report_dir / "report.json"
    if not report_json.is_file():
        return [f"  no report.json in {report_dir}"]
    report = json.loads(report_json.read_text())
    lines = [f"  report:   {report_dir / 'report.html'}"]
    if (report_dir / "model_quality.html").is_file():
        lines.append(f"  quality:  {report_dir / 'model_quality.html'}")
    if (report_dir / "metrics.json").is_file():
        lines.append(f"  metrics:  {report_dir / 'metrics.json'} (not published: PublishMetrics=false)")
    status = report.get("status")
    lines.append(
        f"  records analysed: {report.get('records_analysed', '?')}"
        + (f" ({status})" if status and status != "ok" else "")
    )
    features = (report.get("drift") or {}).get("features") or {}
    drifted = [name for name, result in features.items() if result.get("drifted")]
    if not features:
        lines.append("  drifted features: none judged")
    else:
        lines.append(f"  drifted features: {len(drifted)} of {len(features)}{'' if drifted else ' (none)'}")
        for name in drifted:
            result = features[name]
            lines.append(
                f"    {name:<16} score {result['score']:.3f} (threshold {result['threshold']:g},"
                f" {result.get('method', '?')})"
            )
    quality = report.get("model_quality")
    if quality:
        drop = quality.get("accuracy_drop")
        lines.append(
            f"  model quality: accuracy {quality['accuracy']:.3f}, macro F1 {quality['macro_f1']:.3f}"
            f" on {quality['labelled_records']} labelled records"
            + (f" (evaluation minus live: {drop:+.3f})" if drop is not None else "")
        )
    return lines
