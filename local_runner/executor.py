"""Runs a pipeline definition's steps in dependency order, one local process (set) per job step.

Order: a step runs after every step it references (``Get Steps.<name>...``) or names in
DependsOn; among ready steps, definition order. A Condition step evaluates its conditions
and then runs its IfSteps or ElseSteps; the other branch is NotExecuted. The first failed
step (or a Fail step) fails the execution and nothing else starts, as in SageMaker.
The whole definition is checked before anything runs: an unsupported step type fails at once.
A step type in SKIPPED_LOCALLY (it needs a SageMaker-managed container this machine cannot run)
is recorded as Skipped, never as Succeeded; a RegisterModel step reading its properties
registers without those metrics documents (and says so), any other reader fails.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_runner.conditions import evaluate_conditions
from local_runner.errors import DefinitionError, ExpressionError, LocalRunnerError, StepFailed, UnsupportedStepError
from local_runner.expressions import Context, PropertyFileRef, evaluate, lookup, references
from local_runner.local_s3 import LocalS3
from local_runner.processing import run_processing_step
from local_runner.register_step import drop_metrics_of, run_register_step
from local_runner.registry import LocalRegistry
from local_runner.step_environment import Console, StepEnvironment
from local_runner.training import run_training_step

SUPPORTED_TYPES = ("Processing", "Training", "Condition", "RegisterModel", "Fail")
# Not faked: Model Monitor's analyzer is a Spark/Deequ image; a stand-in would register
# statistics and constraints that are not what SageMaker computes.
SKIPPED_LOCALLY = {"QualityCheck": "needs the SageMaker Model Monitor analyzer container"}
# Settings of the definition that only mean something on AWS; each is reported once.
AWS_ONLY = {
    "RetryPolicies": "retry policies (throttling, capacity, service faults) are not applied: a failure fails at once",
    "CacheConfig": "step caching is off: every step runs",
}


@dataclass
class StepRecord:
    name: str
    type: str
    status: str = "NotExecuted"  # Executing, Succeeded, Failed, Stopped, NotExecuted, Skipped (locally)
    started: float | None = None
    ended: float | None = None
    failure_reason: str = ""
    detail: str = ""  # e.g. a condition's explanation
    notes: list[str] = field(default_factory=list)
    properties: dict = field(default_factory=dict)
    folder: str = ""

    @property
    def duration(self) -> float | None:
        return None if self.started is None or self.ended is None else self.ended - self.started


@dataclass
class ExecutionResult:
    execution_id: str
    pipeline_name: str
    status: str  # Succeeded, Failed, Stopped
    failure_reason: str
    started: float
    ended: float
    parameters: dict
    steps: list[StepRecord]
    registered: list[dict]
    start_datetime: str = ""  # Execution.StartDateTime as the steps saw it (SageMaker's format)

    def to_json(self) -> dict:
        document = asdict(self)
        for step, record in zip(document["steps"], self.steps, strict=False):
            step["duration"] = record.duration
        return document


def all_steps(steps: list[dict]) -> list[dict]:
    """Every step of the definition, condition branches included, in definition order."""
    found = []
    for step in steps:
        found.append(step)
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            found += all_steps((arguments.get("IfSteps") or []) + (arguments.get("ElseSteps") or []))
    return found


def _nested_names(step: dict) -> set[str]:
    return {s["Name"] for s in all_steps([step])} - {step["Name"]}


def dependencies(step: dict) -> set[str]:
    """Names of the steps ``step`` (and its branches) reads from or DependsOn, outside itself."""
    needed = set(step.get("DependsOn") or [])
    for member in all_steps([step]):
        arguments = member.get("Arguments") or {}
        if member.get("Type") == "Condition":
            arguments = {k: v for k, v in arguments.items() if k not in ("IfSteps", "ElseSteps")}
        needed |= (
            references(arguments) | set(member.get("DependsOn") or []) | references(member.get("PropertyFiles") or [])
        )
    return needed - _nested_names(step) - {step["Name"]}


def ordered(steps: list[dict], outer: dict[str, str] | None = None) -> list[dict]:
    """``steps`` in an order that runs each after the steps it depends on (stable otherwise).

    ``outer`` maps nested step names to the top-level step holding them; dependencies on
    steps that are not in ``steps`` are assumed done (they belong to an enclosing level)."""
    outer = outer or {}
    names = [s["Name"] for s in steps]
    pending = {s["Name"]: {outer.get(d, d) for d in dependencies(s)} & set(names) for s in steps}
    result: list[dict] = []
    while pending:
        ready = [s for s in steps if s["Name"] in pending and not pending[s["Name"]]]
        if not ready:
            raise DefinitionError(f"steps {', '.join(sorted(pending))} depend on each other in a cycle")
        step = ready[0]
        result.append(step)
        del pending[step["Name"]]
        for waiting in pending.values():
            waiting.discard(step["Name"])
    return result


def validate(definition: dict) -> None:
    """Fail before running anything: unsupported types, duplicate names, references to no step."""
    steps = definition.get("Steps")
    if not isinstance(steps, list) or not steps:
        raise DefinitionError("the definition has no Steps")
    every = all_steps(steps)
    names: list[str] = []
    for step in every:
        name = step.get("Name")
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"a {step.get('Type', '?')} step has no Name")
        names.append(name)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DefinitionError(f"step names used more than once: {', '.join(duplicates)}")
    for step in every:
        if step.get("Type") not in SUPPORTED_TYPES and step.get("Type") not in SKIPPED_LOCALLY:
            raise UnsupportedStepError(
                step.get("Name", "?"), step.get("Type", "?"), SUPPORTED_TYPES, tuple(SKIPPED_LOCALLY)
            )
        unknown = sorted(dependencies(step) - set(names))
        if unknown:
            raise DefinitionError(
                f"step {step['Name']!r} refers to steps the definition does not have: {', '.join(unknown)}"
            )
    outer = {name: top["Name"] for top in steps for name in _nested_names(top)}
    ordered(steps, outer)


class PipelineExecution:
    def __init__(
        self,
        definition: dict,
        *,
        pipeline_name: str,
        execution_id: str,
        run_dir: Path,
        parameters: dict[str, Any],
        registry: LocalRegistry,
        region: str,
        account: str,
        bin_dir: Path,
        console: Console,
        train_processes: int = 1,
        host_paths: tuple[str, ...] = (),
        start_time: datetime | None = None,
    ):
        """``start_time``: the execution's Execution.StartDateTime (default: now), e.g. a fixed
        monitoring window end for a repeatable run; durations are measured on the real clock."""
        validate(definition)
        self.definition = definition
        self.pipeline_name = pipeline_name
        self.execution_id = execution_id
        self.run_dir = Path(run_dir)
        self.parameters = parameters
        self.registry = registry
        self.region, self.account = region, account
        self.bin_dir = bin_dir
        self.console = console
        self.train_processes = train_processes
        self.host_paths = host_paths
        self.s3 = LocalS3(self.run_dir / "s3")
        self.started = time.time()
        self.start_datetime = sagemaker_datetime(start_time or datetime.fromtimestamp(self.started, UTC))
        self.execution_arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{pipeline_name}/execution/{execution_id}"
        every = all_steps(definition["Steps"])
        self.step_defs = {s["Name"]: s for s in every}
        self.records = {s["Name"]: StepRecord(s["Name"], s["Type"]) for s in every}
        self.properties: dict[str, dict] = {}
        self.registered: list[dict] = []
        self.skipped: set[str] = set()
        self._noted: set[str] = set()
        self._handlers: dict[str, Callable[[dict, StepRecord], None]] = {
            "Processing": self._job(run_processing_step),
            "Training": self._job(run_training_step),
            "RegisterModel": self._register,
            "Condition": self._condition,
            "Fail": self._fail,
            **{kind: self._skip for kind in SKIPPED_LOCALLY},
        }

    # -- expression context -------------------------------------------------------------
    def context(self) -> Context:
        return Context(
            parameters=self.parameters,
            execution={
                "PipelineExecutionId": self.execution_id,
                "PipelineExecutionArn": self.execution_arn,
                "PipelineName": self.pipeline_name,
                "PipelineExperimentName": self.pipeline_name,
                "StartDateTime": self.start_datetime,
                "CurrentDateTime": sagemaker_datetime(datetime.now(UTC)),
            },
            steps=self.properties,
            known_steps=self.step_defs,
            read_property_file=self._read_property_file,
            read_json_uri=self._read_json_uri,
        )

    def _read_property_file(self, ref: PropertyFileRef) -> Any:
        step = self.step_defs.get(ref.step, {})
        files = {f.get("PropertyFileName"): f for f in step.get("PropertyFiles") or []}
        if ref.name not in files:
            raise ExpressionError(
                f"step {ref.step!r} has no property file {ref.name!r} (has: {', '.join(files) or 'none'})"
            )
        spec = files[ref.name]
        output = lookup(
            self.properties[ref.step], f"ProcessingOutputConfig.Outputs['{spec['OutputName']}']", f"Steps.{ref.step}"
        )
        uri = f"{output['S3Output']['S3Uri'].rstrip('/')}/{spec['FilePath']}"
        return self._read_json_uri(uri, f"property file {ref.name} of step {ref.step}")

    def _read_json_uri(self, uri: str, what: str | None = None) -> Any:
        path = self.s3.path(uri)
        what = what or uri
        if not path.is_file():
            raise ExpressionError(f"{what}: {uri} does not exist (local file {path})")
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ExpressionError(f"{what}: {path} is not valid JSON: {error}") from None

    # -- running ------------------------------------------------------------------------
    def run(self) -> ExecutionResult:
        failure = ""
        status = "Succeeded"
        try:
            self._run_level(
                self.definition["Steps"], {n: t["Name"] for t in self.definition["Steps"] for n in _nested_names(t)}
            )
        except _ExecutionFailed as failed:
            status, failure = "Failed", failed.reason
        except KeyboardInterrupt:
            status, failure = "Stopped", "stopped by the user (Ctrl-C)"
            for record in self.records.values():
                if record.status == "Executing":
                    record.status, record.ended, record.failure_reason = "Stopped", time.time(), failure
        return ExecutionResult(
            execution_id=self.execution_id,
            pipeline_name=self.pipeline_name,
            status=status,
            failure_reason=failure,
            started=self.started,
            ended=time.time(),
            parameters=self.parameters,
            steps=list(self.records.values()),
            registered=self.registered,
            start_datetime=self.start_datetime,
        )

    def _run_level(self, steps: list[dict], outer: dict[str, str]) -> None:
        for step in ordered(steps, outer):
            self._run_step(step)

    def _run_step(self, step: dict) -> None:
        record = self.records[step["Name"]]
        record.status, record.started = "Executing", time.time()
        record.folder = str(self.run_dir / "steps" / step["Name"])
        self.console.print(f"==> {step['Name']} ({step['Type']})")
        for key, message in AWS_ONLY.items():
            if step.get(key) and key not in self._noted:
                self._noted.add(key)
                record.notes.append(message)
        try:
            self._handlers[step["Type"]](step, record)
        except (_ExecutionFailed, KeyboardInterrupt):
            raise  # a step inside a condition's branch failed (or Ctrl-C): already recorded
        except StepFailed as error:
            self._failed(record, error.reason)
        except LocalRunnerError as error:
            self._failed(record, str(error))
        except Exception as error:
            self._failed(record, f"local runner error: {error!r}\n{traceback.format_exc()}")
        if record.status == "Executing":
            record.status, record.ended = "Succeeded", time.time()
            suffix = f": {record.detail}" if record.detail else ""
            self.console.print(f"<== {record.name} Succeeded in {record.duration:.1f} s{suffix}")

    def _failed(self, record: StepRecord, reason: str) -> None:
        record.status, record.ended, record.failure_reason = "Failed", time.time(), reason
        self.console.print(f"<== {record.name} Failed after {record.duration:.1f} s: {reason}")
        raise _ExecutionFailed(
            f"step {record.name} failed: {reason.splitlines()[0]}" if record.type != "Fail" else reason
        )

    def _environment(self, step: dict, record: StepRecord, arguments: dict | None = None) -> StepEnvironment:
        if arguments is None:
            arguments = step.get("Arguments") or {}
        unavailable = sorted(references(arguments) & self.skipped)
        if unavailable:
            raise StepFailed(
                f"reads properties of {', '.join(unavailable)}, which did not run locally"
                f" ({'; '.join(self.records[name].detail for name in unavailable)})"
            )
        arguments = evaluate(arguments, self.context())
        step_dir = Path(record.folder)
        step_dir.mkdir(parents=True, exist_ok=True)
        (step_dir / "arguments.json").write_text(json.dumps(arguments, indent=2, default=str))
        return StepEnvironment(
            name=step["Name"],
            step_type=step["Type"],
            arguments=arguments,
            step_dir=step_dir,
            s3=self.s3,
            execution_id=self.execution_id,
            pipeline_name=self.pipeline_name,
            region=self.region,
            account=self.account,
            bin_dir=self.bin_dir,
            console=self.console,
            train_processes=self.train_processes,
            notes=record.notes,
            host_paths=self.host_paths,
        )

    def _job(self, handler):
        def run(step: dict, record: StepRecord) -> None:
            properties = handler(self._environment(step, record))
            self.properties[step["Name"]] = record.properties = properties
            record.detail = _job_detail(properties)

        return run

    def _register(self, step: dict, record: StepRecord) -> None:
        arguments, dropped = drop_metrics_of(step.get("Arguments") or {}, self.skipped)
        if dropped:
            message = f"registered without {', '.join(dropped)}: {', '.join(sorted(self.skipped))} did not run locally"
            record.notes.append(message)
            self.console.print(f"    {message}")
        environment = self._environment(step, record, arguments)
        package = run_register_step(environment, self.registry, self.execution_arn, {"NotRegisteredLocally": dropped})
        self.properties[step["Name"]] = record.properties = package
        self.registered.append(package)
        record.detail = (
            f"version {package['ModelPackageVersion']} of {package['ModelPackageGroupName']}"
            f" ({package['ModelApprovalStatus']})"
        )

    def _condition(self, step: dict, record: StepRecord) -> None:
        arguments = step.get("Arguments") or {}
        outcome, explanation = evaluate_conditions(arguments.get("Conditions") or [], self.context())
        branch = "IfSteps" if outcome else "ElseSteps"
        chosen = arguments.get(branch) or []
        record.detail = f"{explanation} -> {branch} ({', '.join(s['Name'] for s in chosen) or 'none'})"
        self.properties[step["Name"]] = record.properties = {"Outcome": outcome}
        # The condition itself is done; its branch runs next, as steps of their own.
        record.status, record.ended = "Succeeded", time.time()
        self.console.print(f"<== {record.name} Succeeded: {record.detail}")
        outer = {n: t["Name"] for t in chosen for n in _nested_names(t)}
        self._run_level(chosen, outer)

    def _skip(self, step: dict, record: StepRecord) -> None:
        """Evaluate the arguments and check the inputs exist, as the job would; run nothing; record Skipped."""
        inputs = [i for i in self._environment(step, record).arguments.get("ProcessingInputs") or [] if "S3Input" in i]
        counts = {i.get("InputName"): len(self.s3.objects(i["S3Input"]["S3Uri"])) for i in inputs}
        for item in inputs:
            if not counts[item.get("InputName")]:
                uri = item["S3Input"]["S3Uri"]
                raise StepFailed(f"ClientError: input {item.get('InputName')!r}: no S3 objects found under {uri}")
        ready = ", ".join(f"{name}: {count} object(s)" for name, count in counts.items()) or "none"
        record.status, record.ended = "Skipped", time.time()
        record.detail = f"skipped locally: {SKIPPED_LOCALLY[step['Type']]}"
        record.notes.append(f"{record.detail}; its inputs are in the run's S3 folder ({ready})")
        self.skipped.add(step["Name"])
        self.console.print(f"<== {record.name} NOT RUN, {record.detail} (inputs ready: {ready})")

    def _fail(self, step: dict, record: StepRecord) -> None:
        message = evaluate((step.get("Arguments") or {}).get("ErrorMessage", ""), self.context())
        raise StepFailed(str(message))


class _ExecutionFailed(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def sagemaker_datetime(moment: datetime) -> str:
    """An execution variable's date-time as SageMaker renders it: UTC, milliseconds, "Z" (2026-12-02T03:00:12.345Z)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_datetime(text: str) -> datetime:
    """An ISO 8601 date-time with a zone ("Z" or an offset) or, without one, UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time (e.g. 2026-12-02T03:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _job_detail(properties: dict) -> str:
    metrics = properties.get("FinalMetricDataList") or []
    return ", ".join(f"{m['MetricName']}={m['Value']:.4g}" for m in metrics)
