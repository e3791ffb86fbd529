"""Command line: python -m local_runner {run,approve,list,serve,monitor,compare,definition} --help."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from local_runner.errors import LocalRunnerError
from local_runner.step_environment import Console

DEFAULT_ROOT = Path("build/local-pipeline")
DEMO_REVIEWS = (
    "I love this dress! The fabric is soft, it fits perfectly and I get compliments every time.",
    "It's okay. The color is nice but it runs large and the material feels a bit thin.",
    "Terrible quality. The seams came apart after one wash and it looks nothing like the picture.",
)

DESCRIPTION = """\
Run the project's SageMaker pipeline on this machine, without AWS and without Docker.

`run` builds the definition the CDK app synthesizes (infra.pipeline.definition.build_pipeline,
the environment's config from cdk.json; CloudFormation values replaced by local stand-ins),
maps every s3:// URI to <run folder>/s3/<bucket>/<key>, and executes the steps in
dependency order, each job step as local processes under the SageMaker container contract:
/opt/ml and /tmp paths remapped into the run folder, resourceconfig.json, processing job
config, training SM_* variables, hyperparameters as --name value, channels, checkpoints.
Step outputs flow by their property references; property files and JsonGet feed the
condition; RegisterModel adds a version to a local model registry; a Fail step fails the
run with its message. A QualityCheck step needs SageMaker's Model Monitor analyzer container:
it is recorded as Skipped (not as passed) and Register registers without its baseline,
saying so. Each run writes run.json and report.md into its run folder. Every job logs one
MLflow run to <root>/mlflow.db (the TrackingUri parameter, the MLflow App's ARN on AWS;
--param TrackingUri=none turns it off); LinkRun tags the runs with the registered version.

`serve --capture-dir DIR` records invocations as the endpoint's data capture does, and
`monitor` runs the monitoring pipeline (DriftMonitor: ml_code/monitor.py, Evidently) on them.
`serve --challenger-version N` adds a challenger (shadow or A/B, each variant captured), and
`compare` runs the comparison pipeline (CompareVariants: ml_code/compare.py) on that capture.

Exit status: 0 the execution succeeded; 1 it failed (the reason is printed last);
2 it could not start (bad arguments, unsupported step type, bad definition).
"""

MONITOR_DESCRIPTION = """\
Run the monitoring pipeline (<prefix>-monitor, infra.pipeline.monitor_definition) on this machine:
its one step, DriftMonitor, runs ml_code/monitor.py for real (Evidently), as the scheduled
SageMaker pipeline does on AWS, with local folders in place of S3 URIs:

  CaptureUri      --capture-dir DIR/<endpoint name>, as `serve --capture-dir DIR` wrote it
  ReferenceUri    --reference PATH, or the reference.csv the newest Approved version records
                  (CustomerMetadataProperties MonitoringReferenceUri, in its run's local S3)
  GroundTruthUri  --ground-truth DIR, or none
  WindowHours     --window-hours (default: cdk.json monitoring.window_hours)
  PublishMetrics  false: metrics.json is written, nothing is published (no CloudWatch here)

The window ends at the execution's StartDateTime (--window-end, default now) and covers the
whole hour folders of the capture before that hour: traffic captured at 10:xx is judged by a
window ending in 11:xx. The report (report.html, report.json, metrics.json) lands in the run's
local S3 under the reports URI's <yyyy>/<mm>/<dd>/<hh>/ of the window end; its path and the
drifted features are printed at the end.

Exit status: 0 the job succeeded (drift or not); 1 it failed (its ExitMessage is printed last);
2 it could not start (bad arguments, no capture folder, no reference).
"""

MONITOR_EPILOG = """\
example:
  python -m local_runner serve --capture-dir build/capture    # send traffic to 127.0.0.1:8080, Ctrl-C
  python -m local_runner monitor --capture-dir build/capture --window-end 2026-12-02T11:00:00Z
  python -m local_runner serve --capture-dir build/capture2 --challenger-version 2 --challenger-percent 50
  python -m local_runner compare --capture-dir build/capture2 --window-end 2026-12-02T11:00:00Z
"""

COMPARE_DESCRIPTION = """\
Run the challenger comparison pipeline (<prefix>-compare, infra.pipeline.compare_definition) on
this machine: its one step, CompareVariants, runs ml_code/compare.py for real on the capture of
both variants (AllTraffic, the champion, and Challenger), as the scheduled SageMaker pipeline
does on AWS, with local folders in place of S3 URIs:

  CaptureUri      --capture-dir DIR/<endpoint name>, as `serve --capture-dir DIR --challenger-version N` wrote it
  GroundTruthUri  --ground-truth DIR, or none
  WindowHours     --window-hours (default: cdk.json serving.challenger.window_hours)
  CloudWatch      false: no per-variant latency or error metrics here
  PublishMetrics  false: metrics.json is written, nothing is published

The report (comparison.json, comparison.md, metrics.json) lands in the run's local S3 under the
reports URI's <yyyy>/<mm>/<dd>/<hh>/ of the window end; its path, the agreement between the
variants, each variant's accuracy and the recommendation are printed at the end.

Exit status: 0 the job succeeded; 1 it failed (its ExitMessage is printed last);
2 it could not start (bad arguments, no capture folder).
"""

COMPARE_EPILOG = """\
example:
  python -m local_runner serve --capture-dir build/capture --challenger-version 2 --challenger-mode shadow
  python -m local_runner compare --capture-dir build/capture --window-end 2026-12-02T11:00:00Z --window-hours 1
"""

EPILOG = """\
examples:
  python -m tools.tiny_roberta --data data/sample/womens_clothing_reviews_sample.csv.gz \\
      --out build/tiny-roberta --with-model
  python -m local_runner run --base-model build/tiny-roberta --param MinAccuracy=0.4
  python -m local_runner run --base-model build/tiny-roberta \
      --input ../shared/data/womens_clothing_ecommerce_reviews.csv.gz
  python -m local_runner list
  python -m local_runner approve --latest
  python -m local_runner serve --review "Lovely dress, fits perfectly"
  python -m local_runner serve --capture-dir build/capture     # until Ctrl-C, capturing every invocation
  python -m local_runner monitor --capture-dir build/capture --window-end 2026-12-02T11:00:00Z
"""


def _add_storage(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        help="folder for runs/<execution id>/ and registry/ (default: %(default)s)",
    )
    parser.add_argument("--registry", type=Path, default=None, help="model registry folder (default: <root>/registry)")


def _version_args(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--group", help="model package group (default: the registry's only group)")
    which = parser.add_mutually_exclusive_group(required=required)
    which.add_argument("--version", type=int, help="model package version number")
    if required:
        which.add_argument("--latest", action="store_true", help="the newest version")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_runner",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="execute the pipeline locally",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_storage(run)
    run.add_argument(
        "--env", default="dev", help="environment whose cdk.json config builds the definition (default: dev)"
    )
    run.add_argument(
        "--definition",
        type=Path,
        help="run this definition JSON instead of building one"
        " (e.g. from `definition`; its code URI must be the local stand-in)",
    )
    run.add_argument("--pipeline-name", help="pipeline name for --definition (default: the file's name)")
    run.add_argument(
        "--input",
        type=Path,
        action="append",
        dest="inputs",
        metavar="PATH",
        help="data file or folder copied under the InputDataUri parameter's prefix in the local S3;"
        " repeatable (default: data/sample/womens_clothing_reviews_sample.csv.gz)",
    )
    run.add_argument(
        "--base-model",
        type=Path,
        metavar="DIR",
        help="local Hugging Face model folder used wherever the definition passes the hub model"
        " (cdk.json pipeline.base_model, e.g. roberta-base) to a step; where pipeline.base_model is a"
        " staged s3:// folder (staging, prod), the folder is copied there in the local S3 instead, for"
        " the steps that read it as an input (needed then); every rewrite is printed",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a pipeline parameter, e.g. MinAccuracy=0.7, Epochs=2; repeatable",
    )
    run.add_argument(
        "--train-processes",
        type=int,
        default=1,
        metavar="N",
        help="training processes per host (default 1); above 1, or with TrainingInstanceCount above 1,"
        " training runs under torchrun (gloo on CPU; needs torch_distributed in the definition,"
        " which it has)",
    )
    run.add_argument("--execution-id", help="execution id (default: <date>-<time>-<random>); names the run folder")
    run.add_argument(
        "--verbose", "-v", action="store_true", help="echo every line the steps print (default: metric lines only)"
    )

    approve = commands.add_parser(
        "approve",
        help="set a registered version's approval status",
        description="Set the ModelApprovalStatus of a version in the local model registry"
        " (Approved by default), recorded in its ApprovalHistory.",
    )
    _add_storage(approve)
    _version_args(approve, required=True)
    approve.add_argument(
        "--status",
        default="Approved",
        choices=("Approved", "Rejected", "PendingManualApproval"),
        help="new status (default: Approved)",
    )
    approve.add_argument("--note", default="", help="approval description")

    listing = commands.add_parser("list", help="list registered versions with status and metrics")
    _add_storage(listing)
    listing.add_argument("--group", help="model package group (default: every group)")
    listing.add_argument("--json", action="store_true", help="print the version records as JSON")

    serve = commands.add_parser(
        "serve",
        help="serve an approved version locally (tools/serve.py)",
        description="Serve a registered version (the newest Approved one unless --version) through SageMaker's"
        " Hugging Face inference toolkit on 127.0.0.1 (tools/serve.py). With --review or --demo-reviews:"
        " send the reviews, print the predictions, stop the server. Without: serve until Ctrl-C.",
    )
    _add_storage(serve)
    _version_args(serve, required=False)
    serve.add_argument("--port", type=int, default=None, help="port (default: a free one with --review, else 8080)")
    serve.add_argument("--review", action="append", default=[], metavar="TEXT", help="a review to classify; repeatable")
    serve.add_argument("--demo-reviews", action="store_true", help="classify three built-in example reviews")
    serve.add_argument("--allow-unapproved", action="store_true", help="serve a version that is not Approved")
    serve.add_argument(
        "--capture-dir",
        type=Path,
        metavar="DIR",
        help="data capture on, as the endpoint's: callers talk to a router on --port that forwards"
        " to the model server and writes each answered invocation to"
        " DIR/<endpoint name>/AllTraffic/yyyy/mm/dd/hh/<uuid>.jsonl (SageMaker's capture"
        " format; the X-Amzn-SageMaker-Inference-Id header becomes its inferenceId)",
    )
    serve.add_argument(
        "--capture-percentage",
        type=float,
        default=100,
        metavar="P",
        help="with --capture-dir: share of invocations captured, 0-100 (default: %(default)s)",
    )
    serve.add_argument("--env", default="dev", help="environment whose endpoint name the capture uses (default: dev)")
    serve.add_argument(
        "--challenger-version",
        type=int,
        metavar="N",
        help="serve registered version N (any status) as the Challenger variant beside the champion"
        " (AllTraffic: --version, default the newest Approved one), each on its own model server behind"
        " one router; with --capture-dir each variant is captured in its own folder",
    )
    serve.add_argument(
        "--challenger-mode",
        choices=("shadow", "ab"),
        help="shadow: every request answered by the champion, --challenger-percent mirrored to the"
        " challenger (never delaying the caller); ab: --challenger-percent answered by the challenger,"
        " X-Amzn-Invoked-Production-Variant naming the variant (default: cdk.json serving.challenger.mode,"
        " shadow when off)",
    )
    serve.add_argument(
        "--challenger-percent",
        type=float,
        metavar="P",
        help="share of requests for the challenger, 0-100, by a hash of the inference id"
        " (default: cdk.json serving.challenger.traffic_percent)",
    )

    monitor = commands.add_parser(
        "monitor",
        help="run the monitoring pipeline (DriftMonitor, Evidently) on a capture",
        description=MONITOR_DESCRIPTION,
        epilog=MONITOR_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_storage(monitor)
    monitor.add_argument(
        "--env", default="dev", help="environment whose cdk.json config builds the definition (default: dev)"
    )
    monitor.add_argument(
        "--capture-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="what serve --capture-dir DIR wrote; CaptureUri is DIR/<endpoint name>",
    )
    monitor.add_argument(
        "--reference",
        type=Path,
        metavar="PATH",
        help="reference.csv, or a folder holding it (default: the reference the newest Approved"
        " version records as CustomerMetadataProperties MonitoringReferenceUri)",
    )
    monitor.add_argument("--group", help="model package group for the default reference (default: the only one)")
    monitor.add_argument(
        "--ground-truth",
        type=Path,
        metavar="DIR",
        help="JSON Lines of true labels joined by inference id, e.g."
        ' {"inference_id": "review-12", "star_rating": 5} (default: none)',
    )
    monitor.add_argument(
        "--window-hours",
        type=int,
        metavar="N",
        help="hours of capture judged (default: the config's monitoring.window_hours)",
    )
    monitor.add_argument(
        "--window-end",
        metavar="ISO",
        help="the window's end, e.g. 2026-12-02T04:00:00Z (UTC without a zone): the execution's"
        " StartDateTime; the job reads the N whole hour folders before its hour"
        " (default: now)",
    )
    monitor.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override another pipeline parameter, e.g. DriftThreshold=0.2; repeatable",
    )
    monitor.add_argument("--execution-id", help="execution id (default: monitor-<date>-<time>-<random>)")
    monitor.add_argument("--verbose", "-v", action="store_true", help="echo every line the job prints")

    compare = commands.add_parser(
        "compare",
        help="run the challenger comparison pipeline (CompareVariants) on a two-variant capture",
        description=COMPARE_DESCRIPTION,
        epilog=COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_storage(compare)
    compare.add_argument(
        "--env", default="dev", help="environment whose cdk.json config builds the definition (default: dev)"
    )
    compare.add_argument(
        "--capture-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="what serve --capture-dir DIR --challenger-version N wrote; CaptureUri is DIR/<endpoint name>",
    )
    compare.add_argument(
        "--ground-truth",
        type=Path,
        metavar="DIR",
        help='JSON Lines of true labels joined by inference id, e.g. {"inference_id": "review-12",'
        ' "star_rating": 5} (default: none)',
    )
    compare.add_argument(
        "--window-hours",
        type=int,
        metavar="N",
        help="hours of capture compared (default: the config's serving.challenger.window_hours)",
    )
    compare.add_argument(
        "--window-end",
        metavar="ISO",
        help="the window's end, e.g. 2026-12-02T04:00:00Z: the execution's StartDateTime; the job reads"
        " the N whole hour folders before its hour (default: now)",
    )
    compare.add_argument(
        "--mode",
        choices=("shadow", "ab"),
        help="how the capture was routed (default: the definition's, cdk.json serving.challenger.mode,"
        " shadow when off); another mode builds the definition as for that config, printed",
    )
    compare.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override another pipeline parameter, e.g. InstanceType=ml.m5.large; repeatable",
    )
    compare.add_argument("--execution-id", help="execution id (default: compare-<date>-<time>-<random>)")
    compare.add_argument("--verbose", "-v", action="store_true", help="echo every line the job prints")

    definition = commands.add_parser("definition", help="write the definition `run` builds (JSON)")
    definition.add_argument("--env", default="dev", help="environment (default: dev)")
    definition.add_argument("--out", type=Path, help="file to write (default: standard output)")
    return parser


def _run(args, console: Console) -> int:
    from local_runner.definition import parse_assignments
    from local_runner.runner import RunRequest, run_pipeline

    request = RunRequest(
        root=args.root,
        environment=args.env,
        definition_file=args.definition,
        pipeline_name=args.pipeline_name,
        base_model=args.base_model,
        params=parse_assignments(args.param),
        registry=args.registry,
        execution_id=args.execution_id,
        train_processes=args.train_processes,
        verbose=args.verbose,
    )
    if args.inputs:
        request.inputs = args.inputs
    outcome = run_pipeline(request, console)
    result = outcome.result
    console.print("")
    console.print(f"Execution {result.execution_id} {result.status} in {result.ended - result.started:.1f} s")
    for step in result.steps:
        if step.status == "Skipped":
            console.print(f"  NOT RUN:    {step.name} ({step.type}), {step.detail}")
    for package in result.registered:
        console.print(
            f"  registered {package['ModelPackageGroupName']} version {package['ModelPackageVersion']}"
            f" ({package['ModelApprovalStatus']}); metrics: "
            + ", ".join(f"{k}={v:.4f}" for k, v in list(package.get("Metrics", {}).items())[:4])
        )
    console.print(f"  report:     {outcome.report}")
    console.print(f"  run folder: {outcome.run_dir}")
    if result.status != "Succeeded":
        if args.base_model is None and "cannot load" in result.failure_reason:
            console.print(
                "  hint: the definition's base model comes from the Hugging Face hub; offline, build a local one"
                " (python -m tools.tiny_roberta --with-model ...) and pass --base-model DIR"
            )
        print(f"pipeline execution {result.status.lower()}: {result.failure_reason}", file=sys.stderr, flush=True)
        return 1
    return 0


def _registry(args):
    from local_runner.registry import LocalRegistry
    from local_runner.runner import registry_path

    return LocalRegistry(registry_path(args.root, args.registry).resolve())


def _approve(args, console: Console) -> int:
    registry = _registry(args)
    group = registry.resolve_group(args.group)
    version = registry.latest(group)["ModelPackageVersion"] if args.latest else args.version
    before = registry.get(group, version)["ModelApprovalStatus"]
    package = registry.set_status(group, version, args.status, args.note)
    console.print(f"{group} version {version}: {before} -> {package['ModelApprovalStatus']}")
    return 0


def _list(args, console: Console) -> int:
    registry = _registry(args)
    groups = [registry.resolve_group(args.group)] if args.group else registry.groups()
    packages = [p for g in groups for p in registry.versions(g)]
    if args.json:
        console.print(json.dumps(packages, indent=2))
        return 0
    if not packages:
        console.print(f"no registered versions in {registry.root}")
    for package in packages:
        metrics = package.get("Metrics", {})
        accuracy = f"accuracy={metrics['accuracy']:.4f}" if "accuracy" in metrics else ""
        console.print(
            f"{package['ModelPackageGroupName']}  v{package['ModelPackageVersion']:<3}"
            f" {package['ModelApprovalStatus']:<22} {package['CreationTime']}  {accuracy}"
            f"  execution {package.get('Local', {}).get('PipelineExecutionId', '?')}"
        )
    return 0


def _serve(args, console: Console) -> int:
    from local_runner.serving import format_predictions, model_path, pick_version, predict

    registry = _registry(args)
    package = pick_version(registry, args.group, args.version, args.allow_unapproved)
    reviews = list(args.review) + (list(DEMO_REVIEWS) if args.demo_reviews else [])
    capture = None
    if args.capture_dir is not None:
        from local_runner.serving import capture_writer

        if not 0 <= args.capture_percentage <= 100:
            raise LocalRunnerError(f"--capture-percentage must be from 0 to 100, got {args.capture_percentage:g}")
        capture = capture_writer(args.capture_dir, args.env, args.capture_percentage)
    if args.challenger_version is not None:
        return _serve_challenger(args, console, registry, package, reviews)
    if not reviews and capture is not None:
        from local_runner.serving import serve_until_stopped
        from tools.serve import DEFAULT_PORT

        return serve_until_stopped(package, args.port or DEFAULT_PORT, console, capture)
    if not reviews:
        from tools.serve import DEFAULT_PORT
        from tools.serve import main as serve_main

        console.print(
            f"Serving {package['ModelPackageGroupName']} version {package['ModelPackageVersion']}"
            f" ({package['ModelApprovalStatus']})"
        )
        serve_main(["--model", str(model_path(package)), "--port", str(args.port or DEFAULT_PORT)])
        return 0
    predictions = predict(package, reviews, args.port, console, capture)
    console.print("Predictions (label, [class probabilities], review):")
    for line in format_predictions(reviews, predictions):
        console.print(line)
    return 0


def _serve_challenger(args, console: Console, registry, champion: dict, reviews: list[str]) -> int:
    """serve --challenger-version N: champion and challenger behind the variant router."""
    from local_runner.definition import load_environment_config
    from local_runner.serving import pick_version, serve_variants_until_stopped, serving_variants, variant_writers

    challenger_config = load_environment_config(args.env).serving.challenger
    mode = args.challenger_mode or (challenger_config.mode if challenger_config.mode != "off" else "shadow")
    percent = args.challenger_percent if args.challenger_percent is not None else challenger_config.traffic_percent
    if not 0 <= percent <= 100:
        raise LocalRunnerError(f"--challenger-percent must be from 0 to 100, got {percent:g}")
    if not 0 <= args.capture_percentage <= 100:
        raise LocalRunnerError(f"--capture-percentage must be from 0 to 100, got {args.capture_percentage:g}")
    challenger = pick_version(registry, champion["ModelPackageGroupName"], args.challenger_version, True)
    if challenger["ModelPackageVersion"] != args.challenger_version:
        raise LocalRunnerError(f"--challenger-version {args.challenger_version}: no such version")
    writers = None
    if args.capture_dir is not None:
        writers = variant_writers(args.capture_dir, args.env, args.capture_percentage)
    if not reviews:
        from tools.serve import DEFAULT_PORT

        return serve_variants_until_stopped(
            champion, challenger, args.port or DEFAULT_PORT, console, mode, percent, writers
        )
    from local_runner.serving import format_predictions, invoke

    with serving_variants(champion, challenger, args.port, console, mode, percent, writers) as router:
        status, body = invoke(router.url, json.dumps({"inputs": reviews}).encode(), "application/json")
        if status != 200:
            raise LocalRunnerError(f"the router answered {status}: {body.decode(errors='replace')[:500]}")
        router.wait_for_mirrors(60)
    console.print("Predictions (label, [class probabilities], review):")
    for line in format_predictions(reviews, json.loads(body)):
        console.print(line)
    return 0


def _window_end(args):
    """--window-end parsed (None: now), after checking --window-hours; monitor and compare."""
    from local_runner.executor import parse_datetime

    try:
        window_end = parse_datetime(args.window_end) if args.window_end else None
    except ValueError as error:
        raise LocalRunnerError(f"--window-end: {error}") from None
    if args.window_hours is not None and args.window_hours < 1:
        raise LocalRunnerError("--window-hours must be at least 1")
    return window_end


def _report_capture_run(outcome, kind: str, summary_lines, console: Console) -> int:
    """The end of a monitor or compare run: status, run folder, the report's headline (exit 0)
    or the job's failure reason (exit 1)."""
    result = outcome.result
    console.print("")
    console.print(f"Execution {result.execution_id} {result.status} in {result.ended - result.started:.1f} s")
    console.print(f"  run folder: {outcome.run_dir}")
    if result.status != "Succeeded":
        print(f"{kind} execution {result.status.lower()}: {result.failure_reason}", file=sys.stderr, flush=True)
        return 1
    for line in summary_lines(outcome.report_dir):
        console.print(line)
    return 0


def _compare(args, console: Console) -> int:
    from local_runner.comparison import CompareRequest, run_compare, summary_lines
    from local_runner.definition import parse_assignments

    window_end = _window_end(args)
    request = CompareRequest(
        root=args.root,
        capture_dir=args.capture_dir,
        environment=args.env,
        ground_truth=args.ground_truth,
        window_hours=args.window_hours,
        window_end=window_end,
        mode=args.mode,
        params=parse_assignments(args.param),
        registry=args.registry,
        execution_id=args.execution_id,
        verbose=args.verbose,
    )
    outcome = run_compare(request, console)
    return _report_capture_run(outcome, "comparison", summary_lines, console)


def _definition(args, console: Console) -> int:
    from local_runner.definition import build_local_definition

    built = build_local_definition(args.env)
    text = json.dumps(built.definition, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
        console.print(f"wrote {args.out} (pipeline {built.pipeline_name})")
    else:
        console.print(text)
    return 0


def _monitor(args, console: Console) -> int:
    from local_runner.definition import parse_assignments
    from local_runner.monitoring import MonitorRequest, run_monitor, summary_lines

    window_end = _window_end(args)
    request = MonitorRequest(
        root=args.root,
        capture_dir=args.capture_dir,
        environment=args.env,
        reference=args.reference,
        ground_truth=args.ground_truth,
        window_hours=args.window_hours,
        window_end=window_end,
        params=parse_assignments(args.param),
        registry=args.registry,
        group=args.group,
        execution_id=args.execution_id,
        verbose=args.verbose,
    )
    outcome = run_monitor(request, console)
    return _report_capture_run(outcome, "monitoring", summary_lines, console)


COMMANDS = {
    "run": _run,
    "approve": _approve,
    "list": _list,
    "serve": _serve,
    "monitor": _monitor,
    "compare": _compare,
    "definition": _definition,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(verbose=getattr(args, "verbose", False))
    try:
        return COMMANDS[args.command](args, console)
    except LocalRunnerError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
