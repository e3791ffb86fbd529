"""The lineage document as readable sections: package, approval, serving, tracking, data, code,
parameters, metrics."""

from __future__ import annotations

from typing import Any

from ml_code.tracking.names import MODEL_PACKAGE_TAG
from tools.lineage.tracking import NOT_TRACKED_STATE, OK_STATE

WIDTH = 26


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _pairs(values: dict[str, Any], indent: str = "  ") -> list[str]:
    width = min(max((len(k) for k in values), default=0), WIDTH)
    return [f"{indent}{key:<{width}} {_number(value)}" for key, value in values.items()]


def _curve(name: str, summary: dict[str, Any]) -> str:
    text = f"    {name:<{WIDTH}} {_number(summary['final'])} at step {summary['step']}"
    if summary["points"] > 1:
        text += f" ({summary['points']} points, min {_number(summary['min'])}, max {_number(summary['max'])})"
    return text


def package_lines(facts: dict[str, Any]) -> list[str]:
    package = facts["package"]
    lines = [
        f"model package {package['group']} version {package['version']} ({facts['source']})",
        f"  arn          {package['arn']}",
        f"  created      {package['created']}  status {package['status']}",
    ]
    lines += [f"  model data   {uri}" for uri in package["model_data"]]
    if package.get("generated_by"):
        lines.append(f"  execution    {package['generated_by']}")
    lines += [f"  metrics doc  {name}: {uri}" for name, uri in package["metrics_documents"].items()]
    return lines


def approval_lines(approval: dict[str, Any]) -> list[str]:
    description = f' "{approval["description"]}"' if approval.get("description") else ""
    lines = ["approval", f"  status       {approval['status']}{description}"]
    lines.append(f"  history      ({approval['history_source']})")
    for entry in approval["history"]:
        status = entry["status"] or "registered"
        note = f": {entry['note']}" if entry.get("note") and entry["note"] != status else ""
        lines.append(f"    {entry['time']}  {status} by {entry['by'] or '?'}{note}")
    return lines


def serving_lines(serving: dict[str, Any]) -> list[str]:
    lines = ["serving"]
    for w in serving["where"]:
        live = "" if w["live_weight"] is None else f" (live {_number(w['live_weight'])})"
        share = "sampled (shadow)" if w["kind"] == "shadow" else "of requests answered"
        percent = "?" if w["share_percent"] is None else f"{w['share_percent']:.1f}"
        lines.append(
            f"  {w['endpoint']} ({w['endpoint_status']}) variant {w['variant']}: {w['role']}, {w['kind']},"
            f" weight {_number(w['weight'])}{live}, {percent} % {share}, {w['instances']}"
        )
    if serving.get("note"):
        lines.append(f"  {serving['note']}")
    return lines


def tracking_lines(facts: dict[str, Any]) -> list[str]:
    tracking = facts["tracking"]
    if tracking["state"] == NOT_TRACKED_STATE:
        return [f"tracking     none: {tracking['message']}; registry facts only"]
    if tracking["state"] != OK_STATE:
        run = f"run {tracking['run_id']}" if tracking["run_id"] else "run"
        where = f" at {tracking['uri']}" if tracking["uri"] else ""
        return [
            f"tracking     could not read the MLflow {run}{where} ({tracking['state']}: {tracking['message']});"
            " registry facts only"
        ]
    lines = [
        f"tracking     run {tracking['run_id']} (experiment {tracking['experiment_id']},"
        f" execution {tracking['execution_id'] or '?'}) at {tracking['uri']}",
        "  runs       " + ", ".join(f"{r['step']} {r['run_id']} {r['status']}" for r in tracking["runs"]),
    ]
    link = tracking["link"]
    if link["matches"]:
        lines.append(f"  link       the training run names this package back ({MODEL_PACKAGE_TAG})")
    if link["model_artifact_uri"]:
        lines.append(f"  artifact   {link['model_artifact_uri']}")
    if link["matches"] is False:
        lines.append(f"  WARNING: the training run is tagged with another package: {link['model_package_arn']}")
    elif link["matches"] is None:
        lines.append("  the training run is not tagged with a package yet (LinkRun did not run or failed)")
    return lines


def lineage_lines(facts: dict[str, Any]) -> list[str]:
    lines = package_lines(facts) + approval_lines(facts["approval"]) + serving_lines(facts["serving"])
    lines += tracking_lines(facts)
    tracking = facts["tracking"]
    ok = tracking["state"] == OK_STATE
    if ok and tracking["data"]:
        lines.append("data")
        for step, inputs in tracking["data"].items():
            lines += [f"  {step:<12} {name} = {uri}" for name, uri in inputs.items()]
    if ok:
        code = tracking["code"]
        detail = ""
        if len(set(code["by_step"].values())) > 1:
            detail = "  (differs by step: " + ", ".join(f"{s} {v}" for s, v in code["by_step"].items()) + ")"
        lines.append(f"code         version {code['version'] or '?'}{detail}")
    if ok and tracking["parameters"]:
        lines.append("parameters   (training run)")
        lines += _pairs(tracking["parameters"])
    if facts["pipeline_parameters"]:
        lines.append(f"pipeline parameters ({facts['pipeline_parameters_source']})")
        lines += _pairs(facts["pipeline_parameters"])
    lines += metric_lines(facts)
    if ok:
        lines.append(f"health       {tracking['health'] or '?'}")
    return lines


def metric_lines(facts: dict[str, Any]) -> list[str]:
    tracking = facts["tracking"]
    lines = ["metrics"]
    if tracking["state"] == OK_STATE:
        metrics = tracking["metrics"]
        if metrics["training"]:
            lines.append("  training curves (final value)")
            lines += [_curve(name, summary) for name, summary in metrics["training"].items()]
        if metrics["best_validation_accuracy"] is not None:
            lines.append(f"  best validation accuracy {_number(metrics['best_validation_accuracy'])}")
        if metrics["evaluation"]:
            lines.append(f"  evaluation (run {', '.join(metrics['evaluation_run_ids'])})")
            lines += _pairs(metrics["evaluation"], "    ")
    registry = facts["package"]["registry_metrics"]
    if registry:
        lines.append("  registry (model quality statistics)")
        lines += _pairs(registry, "    ")
    return lines if len(lines) > 1 else []
