"""Evaluation of the pipeline definition's expressions, as SageMaker Pipelines evaluates them.

A definition value is either literal JSON or one of:

    {"Get": "Parameters.MinAccuracy"}                          a pipeline parameter
    {"Get": "Execution.PipelineExecutionId"}                   an execution variable
    {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}     a property of a step that ran
    {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}   a property file (inside JsonGet)
    {"Std:Join": {"On": "/", "Values": [...]}}                 values rendered as text and joined
    {"Std:JsonGet": {"PropertyFile": {...} | "S3Uri": ..., "Path": "a.b[0].c"}}

nested in any way. Property paths use the SDK's syntax: ``Outputs['train']`` picks the list
item whose ``...Name`` field is ``train``, ``[0]`` indexes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_runner.errors import ExpressionError

FUNCTIONS = ("Get", "Std:Join", "Std:JsonGet")
_TOKEN = re.compile(r"""\.?([A-Za-z_][A-Za-z0-9_:-]*)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]""")


@dataclass(frozen=True)
class PropertyFileRef:
    """What ``Get Steps.<step>.PropertyFiles.<name>`` stands for; only JsonGet can read it."""

    step: str
    name: str


@dataclass
class Context:
    """Everything an expression can refer to."""

    parameters: Mapping[str, Any]
    execution: Mapping[str, Any]
    steps: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # properties of steps that ran
    known_steps: Collection[str] = ()  # every step of the definition, to tell "not run" from "no such step"
    read_property_file: Callable[[PropertyFileRef], Any] | None = None  # -> parsed JSON
    read_json_uri: Callable[[str], Any] | None = None  # s3:// URI -> parsed JSON


def is_expression(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key in FUNCTIONS or key.startswith("Std:")


def evaluate(value: Any, ctx: Context) -> Any:
    """``value`` with every expression in it replaced by its value (literals are returned as they are)."""
    if isinstance(value, list):
        return [evaluate(item, ctx) for item in value]
    if not isinstance(value, dict):
        return value
    if not is_expression(value):
        return {key: evaluate(item, ctx) for key, item in value.items()}
    ((function, argument),) = value.items()
    if function == "Get":
        return _get(argument, ctx)
    if function == "Std:Join":
        return _join(argument, ctx)
    if function == "Std:JsonGet":
        return _json_get(argument, ctx)
    raise ExpressionError(f"unsupported function {function!r} (supported: {', '.join(FUNCTIONS)})")


def references(value: Any) -> set[str]:
    """Names of the steps whose properties ``value`` uses (Get Steps.<name>...)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        get = value.get("Get") if len(value) == 1 else None
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        else:
            for item in value.values():
                found |= references(item)
    return found


def as_text(value: Any) -> str:
    """How Std:Join renders a value: JSON-style booleans, integers without a decimal point."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def parse_path(path: str) -> list[str | int]:
    """``Outputs['train'].S3Output.S3Uri`` -> ["Outputs", "train", "S3Output", "S3Uri"] ("train" as a key)."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match or match.end() == position or (position and match.group(1) and path[position] != "."):
            raise ExpressionError(f"cannot parse path {path!r} at character {position}: {path[position:]!r}")
        name, index, single, double = match.groups()
        tokens.append(
            int(index)
            if index is not None
            else name
            if name is not None
            else (single if single is not None else double)
        )
        position = match.end()
    if not tokens:
        raise ExpressionError("empty path")
    return tokens


def lookup(document: Any, path: str, where: str) -> Any:
    """The value at ``path`` in ``document``; ``where`` names the document in errors."""
    current, walked = document, where
    for token in parse_path(path):
        current = _step_into(current, token, walked)
        walked += f"[{token}]" if isinstance(token, int) else f".{token}"
    return current


def _step_into(current: Any, token: str | int, walked: str) -> Any:
    if isinstance(token, int):
        if isinstance(current, list) and -len(current) <= token < len(current):
            return current[token]
        size = f"a list of {len(current)}" if isinstance(current, list) else type(current).__name__
        raise ExpressionError(f"{walked}: no item [{token}] ({size})")
    if isinstance(current, dict):
        if token in current:
            return current[token]
        raise ExpressionError(f"{walked}: no key {token!r} (keys: {', '.join(map(str, current)) or 'none'})")
    if isinstance(current, list):
        # Outputs['train'], Channels['validation'], FinalMetricDataList['validation:accuracy']
        for item in current:
            if isinstance(item, dict) and any(k.endswith("Name") and v == token for k, v in item.items()):
                return item
        names = sorted(
            {str(v) for item in current if isinstance(item, dict) for k, v in item.items() if k.endswith("Name")}
        )
        raise ExpressionError(f"{walked}: no item named {token!r} (have: {', '.join(names) or 'none'})")
    raise ExpressionError(f"{walked}: {type(current).__name__} value {current!r} has no {token!r}")


def _get(path: Any, ctx: Context) -> Any:
    if not isinstance(path, str) or "." not in path:
        raise ExpressionError(f"Get needs a dotted path, got {path!r}")
    root, rest = path.split(".", 1)
    if root == "Parameters":
        if rest not in ctx.parameters:
            raise ExpressionError(f"Get {path}: no pipeline parameter {rest!r} (have: {', '.join(ctx.parameters)})")
        return ctx.parameters[rest]
    if root == "Execution":
        if rest not in ctx.execution:
            raise ExpressionError(f"Get {path}: unknown execution variable (have: {', '.join(ctx.execution)})")
        return ctx.execution[rest]
    if root == "Steps":
        step, _, property_path = rest.partition(".")
        if step not in ctx.known_steps and step not in ctx.steps:
            raise ExpressionError(f"Get {path}: the definition has no step {step!r}")
        if step not in ctx.steps:
            raise ExpressionError(f"Get {path}: step {step!r} has not run (yet); nothing to read")
        if not property_path:
            raise ExpressionError(f"Get {path}: a step reference needs a property path")
        if property_path.startswith("PropertyFiles."):
            return PropertyFileRef(step, property_path.split(".", 1)[1])
        return lookup(ctx.steps[step], property_path, f"Steps.{step}")
    raise ExpressionError(f"Get {path}: unknown root {root!r} (Parameters, Execution or Steps)")


def _join(argument: Any, ctx: Context) -> str:
    if not isinstance(argument, dict) or not isinstance(argument.get("Values"), list):
        raise ExpressionError(f"Std:Join needs {{'On': ..., 'Values': [...]}}, got {argument!r}")
    values = [evaluate(item, ctx) for item in argument["Values"]]
    if any(isinstance(v, PropertyFileRef) for v in values):
        raise ExpressionError("Std:Join cannot join a property file; read a value from it with Std:JsonGet")
    return str(argument.get("On", "")).join(as_text(v) for v in values)


def _json_get(argument: Any, ctx: Context) -> Any:
    if not isinstance(argument, dict) or not isinstance(argument.get("Path"), str):
        raise ExpressionError(f"Std:JsonGet needs a Path and a PropertyFile or S3Uri, got {argument!r}")
    path = argument["Path"]
    if "PropertyFile" in argument:
        ref = evaluate(argument["PropertyFile"], ctx)
        if isinstance(ref, str):  # older definitions name the property file of the step directly
            raise ExpressionError(
                f"Std:JsonGet: PropertyFile {ref!r} must be a Get of Steps.<step>.PropertyFiles.<name>"
            )
        if not isinstance(ref, PropertyFileRef):
            raise ExpressionError(f"Std:JsonGet: PropertyFile evaluated to {ref!r}, not a property file")
        if ctx.read_property_file is None:
            raise ExpressionError("Std:JsonGet: no property files can be read here")
        document, where = ctx.read_property_file(ref), f"property file {ref.name} of step {ref.step}"
    elif "S3Uri" in argument:
        uri = evaluate(argument["S3Uri"], ctx)
        if ctx.read_json_uri is None:
            raise ExpressionError("Std:JsonGet: no S3 objects can be read here")
        document, where = ctx.read_json_uri(uri), str(uri)
    else:
        raise ExpressionError(f"Std:JsonGet needs a PropertyFile or an S3Uri, got keys {sorted(argument)}")
    try:
        return lookup(document, path, where)
    except ExpressionError as error:
        raise ExpressionError(f"Std:JsonGet {path!r}: {error}") from None
