"""`python -m local_runner compare`: the challenger comparison pipeline (``<prefix>-compare``) here.

Builds the definition with the same ``infra.pipeline.compare_definition.build_compare_pipeline``
the stack calls (the environment's config from cdk.json), with the local stand-ins ``monitor``
uses (role, KMS key, buckets, the ml_code bundle as the code asset, the containers/monitor
image recorded and never pulled), and runs its one Processing step, CompareVariants
(ml_code/compare.py), with the executor. Local parameter values, printed and recorded in run.json:

    CaptureUri      <--capture-dir>/<endpoint name>: both variants' folders beneath it, as
                    ``serve --capture-dir DIR --challenger-version N`` wrote them
    GroundTruthUri  --ground-truth, or "none"
    WindowHours     --window-hours (default: the config's serving.challenger.window_hours)
    CloudWatch      false: no per-variant latency or error metrics here (the report says so)
    PublishMetrics  false: metrics.json is written, nothing is published

The step's ``--mode`` is no parameter: the definition carries ``serving.challenger.mode``
(shadow where the config says off). ``--mode`` builds the definition as for a config with that
mode, and says so. ``--window-end`` sets the execution's StartDateTime, the window's end.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from local_runner.definition import LOCAL_ACCOUNT, load_environment_config
from local_runner.errors import LocalRunnerError
from local_runner.monitoring import (
    MONITORING_BUCKET,
    NONE,
    CaptureRunOutcome,
    _hour_folder,
    capture_folder,
    prepare_capture_run,
)
from local_runner.report import write_run_files
from local_runner.step_environment import Console

MODES = ("shadow", "ab")


@dataclass
class CompareRequest:
    root: Path
    capture_dir: Path
    environment: str = "dev"
    ground_truth: Path | None = None
    window_hours: int | None = None  # default: the definition's (serving.challenger.window_hours)
    window_end: datetime | None = None  # default: now
    mode: str | None = None  # default: the definition's (serving.challenger.mode; shadow when off)
    params: dict[str, str] = field(default_factory=dict)
    registry: Path | None = None
    execution_id: str | None = None
    verbose: bool = False


@dataclass(frozen=True)
class LocalCompareDefinition:
    definition: dict
    pipeline_name: str
    endpoint_name: str
    reports_uri: str
    mode: str
    mode_source: str
    stand_ins: dict[str, str]


def configured_mode(config) -> str:
    """The step's --mode as build_compare_pipeline writes it: the config's, shadow when off."""
    mode = config.serving.challenger.mode
    return mode if mode in MODES else "shadow"


def build_local_compare_definition(environment: str = "dev", mode: str | None = None) -> LocalCompareDefinition:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    logging.getLogger("sagemaker.config").setLevel(logging.WARNING)
    from infra.pipeline.compare_definition import build_compare_pipeline
    from local_runner.definition import CODE_URI
    from local_runner.tracking import code_version

    config = load_environment_config(environment)
    source = f"cdk.json serving.challenger.mode={config.serving.challenger.mode!r}"
    if mode is not None and mode not in MODES:
        raise LocalRunnerError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode is not None and mode != configured_mode(config):
        challenger = dataclasses.replace(config.serving.challenger, mode=mode)
        config = dataclasses.replace(config, serving=dataclasses.replace(config.serving, challenger=challenger))
        source = f"--mode {mode}: built as for serving.challenger.mode={mode!r}"
    stand_ins = {
        "role_arn": f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{config.prefix}-compare-local",
        "code_uri": CODE_URI,
        # containers/monitor, which the stack builds as a Docker image asset: recorded, not built or pulled.
        "image_uri": f"{LOCAL_ACCOUNT}.dkr.ecr.{config.region}.amazonaws.com/{config.prefix}-monitor:local",
        "capture_uri": f"s3://{MONITORING_BUCKET}/datacapture/{config.endpoint_name}",
        "reports_uri": f"s3://{MONITORING_BUCKET}/comparisons/{config.endpoint_name}",
        "kms_key_arn": f"arn:aws:kms:{config.region}:{LOCAL_ACCOUNT}:key/local",
        "work_bucket": MONITORING_BUCKET,
    }
    pipeline = build_compare_pipeline(
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
    return LocalCompareDefinition(
        definition,
        pipeline.name,
        config.endpoint_name,
        stand_ins["reports_uri"],
        configured_mode(config),
        source,
        stand_ins,
    )


def run_compare(request: CompareRequest, console: Console) -> CaptureRunOutcome:
    built = build_local_compare_definition(request.environment, request.mode)
    capture = capture_folder(request.capture_dir, built.endpoint_name)
    ground_truth = None
    if request.ground_truth is not None:
        ground_truth = Path(request.ground_truth).resolve()
        if not ground_truth.exists():
            raise LocalRunnerError(f"--ground-truth {request.ground_truth}: no such file or folder")
    overrides = {
        **request.params,
        "CaptureUri": str(capture),
        "GroundTruthUri": str(ground_truth) if ground_truth else NONE,
        "PublishMetrics": "false",
        "CloudWatch": "false",
    }
    if request.window_hours is not None:
        overrides["WindowHours"] = str(request.window_hours)
    run = prepare_capture_run(
        root=request.root,
        registry=request.registry,
        environment=request.environment,
        execution_id=request.execution_id,
        id_prefix="compare",
        definition=built.definition,
        pipeline_name=built.pipeline_name,
        overrides=overrides,
        host_paths=tuple(str(p) for p in (capture, ground_truth) if p is not None),
        window_end=request.window_end,
        console=console,
    )
    execution, run_dir, s3, code = run.execution, run.run_dir, run.s3, run.code
    execution_id = run_dir.name
    parameters, overridden = run.parameters, run.overridden
    variants = sorted(p.name for p in capture.iterdir() if p.is_dir())

    source = f"infra.pipeline.compare_definition.build_compare_pipeline, {request.environment} config"
    console.print(f"Local execution {execution_id} of pipeline {built.pipeline_name} ({source})")
    console.print(f"  run folder:   {run_dir}")
    given = ", --window-end" if request.window_end else ""
    console.print(
        f"  window end:   {execution.start_datetime} (Execution.StartDateTime{given});"
        f" {parameters['WindowHours']} hour(s) before it"
    )
    console.print(f"  capture:      {capture} (variant folders: {', '.join(variants) or 'none'})")
    console.print(f"  ground truth: {ground_truth or 'none'}")
    console.print(f"  mode:         {built.mode} ({built.mode_source})")
    console.print(
        "  parameters:   "
        + ", ".join(f"{k}={v}" + (" (local)" if k in overridden else "") for k, v in parameters.items())
    )
    console.print(f"  code:         ml_code bundle -> {code}")
    console.print(f"  image:        {built.stand_ins['image_uri']} (recorded, not pulled: this machine's Python runs)")
    console.print(
        "  metrics:      CloudWatch=false (no per-variant latency or errors here), PublishMetrics=false"
        " (metrics.json written, not published)"
    )

    result = execution.run()
    report_dir = s3.path(built.reports_uri) / _hour_folder(execution.start_datetime)
    extra = {
        "definition_source": source,
        "overridden_parameters": sorted(overridden),
        "local_differences": [
            "CloudFormation values replaced by local stand-ins: "
            + ", ".join(f"{k}={v!r}" for k, v in built.stand_ins.items()),
            "CaptureUri and GroundTruthUri are folders of this machine (the job reads local paths as it reads"
            " s3:// URIs); CloudWatch=false: no per-variant latency or error metrics; PublishMetrics=false",
            f"mode {built.mode}: {built.mode_source}",
        ],
        "comparison": {
            "capture": str(capture),
            "variants": variants,
            "ground_truth": str(ground_truth) if ground_truth else None,
            "mode": built.mode,
            "window_end": execution.start_datetime,
            "report_dir": str(report_dir),
        },
        "run_dir": str(run_dir),
    }
    run_json, _ = write_run_files(result, run_dir, built.definition, extra)
    return CaptureRunOutcome(result, run_dir, run_json, report_dir)


def _figure(value, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) and not isinstance(value, bool) else "n/a"


def summary_lines(report_dir: Path) -> list[str]:
    """The report's paths and headline figures: agreement, per-variant accuracy, recommendation."""
    report_json = report_dir / "comparison.json"
    if not report_json.is_file():
        return [f"  no comparison.json in {report_dir}"]
    report = json.loads(report_json.read_text())
    lines = [f"  report:   {report_dir / 'comparison.md'}", f"  json:     {report_json}"]
    if (report_dir / "metrics.json").is_file():
        lines.append(f"  metrics:  {report_dir / 'metrics.json'} (not published: PublishMetrics=false)")
    return lines + headline_lines(report)


def headline_lines(report: dict) -> list[str]:
    """Headline figures of ml_code/compare.py's comparison.json: status, agreement (shadow),
    each variant's records and accuracy, the recommendation."""
    lines = [f"  status: {report.get('status', '?')}, mode {report.get('mode', '?')}"]
    shadow = report.get("shadow")
    if shadow:
        lines.append(
            f"  agreement: {_figure(shadow.get('agreement'))} of {shadow.get('paired_texts', 0)} paired text(s)"
            f" ({shadow.get('pairs', 0)} pair(s): {shadow.get('paired_by_inference_id', 0)} by inference id,"
            f" {shadow.get('paired_by_body', 0)} by body; unpaired "
            + ", ".join(f"{role} {n}" for role, n in (shadow.get("unpaired") or {}).items())
            + ")"
        )
    pairs = (shadow or {}).get("labelled_pairs") or {}
    for role, side in (report.get("variants") or {}).items():
        line = (
            f"  {role:<10} {side.get('variant', '?'):<10} {side.get('records', 0)} record(s);"
            f" accuracy {_figure(side.get('accuracy'))}, macro F1 {_figure(side.get('macro_f1'))}"
            f" on {side.get('labelled', 0)} labelled"
        )
        on_pairs = pairs.get(role) or {}
        if on_pairs.get("labelled"):
            line += f" (on the labelled pairs: {_figure(on_pairs.get('accuracy'))} of {on_pairs['labelled']})"
        lines.append(line)
    recommendation = report.get("recommendation")
    if recommendation:
        lines.append(f"  recommendation: {recommendation.get('recommended', '?')} ({recommendation.get('reason', '')})")
    else:
        lines.append("  recommendation: none (no --recommend-margin)")
    return lines
