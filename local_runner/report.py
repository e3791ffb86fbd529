"""The run summary: run.json (everything, machine-readable) and report.md (for people).

report.md shows the parameters (overrides marked), each step with status, duration and
detail, the registered version, the training metrics scraped with MetricDefinitions (and
the training curve image the script wrote, if any), every property file's metrics with
its confusion matrix, images the steps wrote, failures with their log tails, and what
the local run did differently from SageMaker.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from local_runner.executor import ExecutionResult, StepRecord
from local_runner.local_s3 import LocalS3
from local_runner.registry import flat_metrics

MAX_CURVE_POINTS = 12


def write_run_files(result: ExecutionResult, run_dir: Path, definition: dict, extra: dict) -> tuple[Path, Path]:
    """Write run.json and report.md into ``run_dir``; returns their paths."""
    summary = {**result.to_json(), **extra}
    run_json = run_dir / "run.json"
    run_json.write_text(json.dumps(summary, indent=2, default=str))
    report = run_dir / "report.md"
    report.write_text(render(result, run_dir, definition, extra))
    return run_json, report


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s" if minutes else f"{rest:.1f} s"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _relative(path: Path, run_dir: Path) -> str:
    return os.path.relpath(path, run_dir)


def _confusion_matrices(document: Any, path: str = "") -> list[tuple[str, dict]]:
    """Every ``confusion_matrix`` shaped as actual -> predicted -> count in a metrics document."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}.{key}" if path else key
            if (
                key == "confusion_matrix"
                and isinstance(value, dict)
                and all(isinstance(v, dict) for v in value.values())
            ):
                found.append((where, value))
            else:
                found += _confusion_matrices(value, where)
    return found


def _property_files(definition: dict, step: StepRecord) -> list[tuple[str, str]]:
    """(property file name, s3 URI of its file) of a step that ran."""
    from local_runner.executor import all_steps

    step_def = next((s for s in all_steps(definition.get("Steps") or []) if s.get("Name") == step.name), {})
    outputs = {
        o.get("OutputName"): o for o in (step.properties.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    }
    found = []
    for spec in step_def.get("PropertyFiles") or []:
        output = outputs.get(spec.get("OutputName"))
        if output:
            found.append((spec["PropertyFileName"], f"{output['S3Output']['S3Uri'].rstrip('/')}/{spec['FilePath']}"))
    return found


def _curve(values: list[float]) -> str:
    if len(values) > MAX_CURVE_POINTS:
        step = (len(values) - 1) / (MAX_CURVE_POINTS - 1)
        values = [values[round(i * step)] for i in range(MAX_CURVE_POINTS)]
    return " → ".join(f"{v:.4g}" for v in values)


def _step_images(step: StepRecord, run_dir: Path, s3: LocalS3) -> list[Path]:
    images: list[Path] = []
    if step.status != "Succeeded":
        return images
    if step.type == "Processing":
        for output in (step.properties.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            folder = s3.path(output["S3Output"]["S3Uri"])
            images += sorted(folder.rglob("*.png")) if folder.is_dir() else []
    elif step.type == "Training":
        folder = Path(step.folder) / "algo-1" / "opt" / "ml" / "output" / "data"
        images += sorted(folder.rglob("*.png")) if folder.is_dir() else []
    return images


def render(result: ExecutionResult, run_dir: Path, definition: dict, extra: dict) -> str:
    s3 = LocalS3(run_dir / "s3")
    out = [f"# Local pipeline run {result.execution_id}", ""]
    out.append(
        f"Pipeline `{result.pipeline_name}`: **{result.status}** in {_duration(result.ended - result.started)}"
        f" (started {extra.get('started_at', '')}; Execution.StartDateTime {result.start_datetime})."
    )
    out.append("")
    if result.failure_reason:
        out += ["**Failure:** " + result.failure_reason.splitlines()[0], ""]
    for step in result.steps:
        if step.status == "Skipped":
            out += [f"**{step.name} ({step.type}) did not run:** {step.detail}.", ""]

    out += ["## Parameters", ""]
    overridden = set(extra.get("overridden_parameters", []))
    out += _table(
        ["parameter", "value", ""],
        [[k, v, "override" if k in overridden else "default"] for k, v in result.parameters.items()],
    )

    out += ["## Steps", ""]
    rows: list[list[Any]] = []
    for step in result.steps:
        detail = step.detail or (step.failure_reason.splitlines()[0] if step.failure_reason else "")
        rows.append([step.name, step.type, step.status, _duration(step.duration), detail])
    out += _table(["step", "type", "status", "duration", "detail"], rows)

    for package in result.registered:
        out += ["## Registered model", ""]
        out += _table(
            ["field", "value"],
            [
                ["group", package["ModelPackageGroupName"]],
                ["version", package["ModelPackageVersion"]],
                ["approval status", package["ModelApprovalStatus"]],
                ["ARN", package["ModelPackageArn"]],
                ["model data", ", ".join(_relative(Path(p), run_dir) for p in package["Local"].get("ModelData", ()))],
            ],
        )
        if package.get("Metrics"):
            shown = ", ".join(f"{k}={v:.4f}" for k, v in list(package["Metrics"].items())[:3])
            out += [f"Registered with its model statistics ({shown}, ...), copied into the registry.", ""]

    for step in result.steps:
        metrics_file = Path(step.folder) / "metrics.json" if step.folder else None
        if step.type != "Training" or not metrics_file or not metrics_file.is_file():
            continue
        series = json.loads(metrics_file.read_text())
        out += [f"## Training metrics ({step.name})", "", "Scraped from the log with the step's MetricDefinitions.", ""]
        rows = [[name, len(v), f"{v[-1]:.4g}", _curve(v)] for name, v in series.items() if v]
        out += _table(["metric", "points", "final", "curve"], rows) if rows else ["No metric line matched.", ""]

    for step in result.steps:
        if step.status != "Succeeded":
            continue
        for name, uri in _property_files(definition, step):
            path = s3.path(uri)
            if not path.is_file():
                continue
            document = json.loads(path.read_text())
            out += [f"## {name} ({step.name}: `{_relative(path, run_dir)}`)", ""]
            metrics = flat_metrics(document)
            if metrics:
                out += _table(["metric", "value"], [[k, f"{v:.4f}"] for k, v in metrics.items()])
            for where, matrix in _confusion_matrices(document):
                labels = list(matrix)
                predicted = list(dict.fromkeys(p for row in matrix.values() for p in row))
                out += [f"Confusion matrix (`{where}`; rows actual, columns predicted):", ""]
                out += _table(
                    ["actual \\ predicted", *predicted],
                    [[a, *(matrix[a].get(p, 0) for p in predicted)] for a in labels],
                )

    images = [(step, image) for step in result.steps for image in _step_images(step, run_dir, s3)]
    if images:
        out += ["## Figures", ""]
        for step, image in images:
            out += [f"![{step.name}: {image.name}]({_relative(image, run_dir)})", ""]

    failed = [s for s in result.steps if s.status in ("Failed", "Stopped") and s.type != "Fail"]
    for step in failed:
        out += [f"## {step.name} failure", "", "```", step.failure_reason.strip(), "```", ""]

    notes = list(extra.get("local_differences", []))
    for step in result.steps:
        notes += [f"{step.name}: {note}" for note in step.notes]
    if notes:
        out += ["## Local run vs SageMaker", ""] + [f"- {note}" for note in notes] + [""]

    out += ["## Files", ""]
    out += [
        "- `run.json`: this summary, machine-readable (step properties included)",
        "- `definition.json`: the definition as built; `definition.local.json`: as run (local overrides applied)",
        "- `steps/<step>/arguments.json`: the step's arguments with every expression evaluated",
        "- `steps/<step>/logs/<host>.log`: the step's output; `steps/<step>/<host>/opt/ml/`: its container folders",
        "- `s3/<bucket>/<key>`: the local S3",
        "",
    ]
    return "\n".join(out)
