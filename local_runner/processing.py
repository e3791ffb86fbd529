"""A Processing step as a local processing job: one process per instance, /opt/ml remapped.

Per instance (``algo-1`` ... ``algo-N``, N = ClusterConfig.InstanceCount) the runner stages
the S3 inputs into the instance's ``opt/ml/processing/...`` folders (FullyReplicated: all
objects; ShardedByS3Key: every N-th), writes ``/opt/ml/config/processingjobconfig.json`` and
``resourceconfig.json``, runs ContainerEntrypoint + ContainerArguments with container paths
rewritten, and after a clean exit of every instance uploads each output's LocalPath to its
S3Uri. A failed instance fails the step with its ``/opt/ml/output/message`` (SageMaker's
ExitMessage) or the end of its log.
"""

from __future__ import annotations

import json
import sys
import time

from local_runner.container_paths import PathMap
from local_runner.errors import DefinitionError, LocalRunnerError, StepFailed
from local_runner.processes import HostProcess, log_tail, run_hosts
from local_runner.step_environment import StepEnvironment

EXIT_MESSAGE = "/opt/ml/output/message"


def run_processing_step(env: StepEnvironment) -> dict:
    args = env.arguments
    cluster = args.get("ProcessingResources", {}).get("ClusterConfig", {})
    count = int(cluster.get("InstanceCount", 1))
    if count < 1:
        raise StepFailed(f"ClusterConfig.InstanceCount must be at least 1, got {count}")
    app = args.get("AppSpecification", {})
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise DefinitionError(
            f"step {env.name!r}: no ContainerEntrypoint; the image's own entrypoint cannot run without its container"
        )
    command = entrypoint + [str(a) for a in app.get("ContainerArguments") or []]
    inputs = args.get("ProcessingInputs") or []
    outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    env.note(f"runs on this machine's Python ({sys.executable}) instead of image {app.get('ImageUri', '?')}")
    if count > 1:
        env.note(f"{count} instances run as {count} local processes side by side")

    hosts = [f"algo-{i + 1}" for i in range(count)]
    started = time.time()
    specs, maps = [], {}
    for index, host in enumerate(hosts):
        path_map = env.path_map(host)
        path_map.create()
        maps[host] = path_map
        for item in inputs:
            _stage_input(env, item, path_map, index, count)
        for item in outputs:
            _check_output(env, item)
            path_map.local(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        path_map.local("/opt/ml/output").mkdir(parents=True, exist_ok=True)
        config_dir = path_map.local("/opt/ml/config")
        config_dir.mkdir(parents=True, exist_ok=True)
        job = {"ProcessingJobName": env.job_name, "ProcessingJobArn": env.arn(f"processing-job/{env.job_name}"), **args}
        (config_dir / "processingjobconfig.json").write_text(json.dumps(job, indent=2, default=str))
        (config_dir / "resourceconfig.json").write_text(json.dumps({"current_host": host, "hosts": hosts}))
        specs.append(
            HostProcess(
                host=host,
                command=path_map.rewrite_all(command),
                cwd=path_map.host_root,
                env=env.process_environment(path_map, path_map.rewrite_all(args.get("Environment") or {})),
                log_path=env.step_dir / "logs" / f"{host}.log",
            )
        )
    timeout = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    results = run_hosts(specs, echo=lambda host, line: env.console.step_output(env.name, host, line), timeout=timeout)

    for result in results:
        if result.exit_code == 0:
            continue
        if result.stopped == "another host failed":
            continue
        message_file = maps[result.host].local(EXIT_MESSAGE)
        message = message_file.read_text(errors="replace").strip() if message_file.is_file() else ""
        if result.stopped == "timeout":
            reason = f"MaxRuntimeExceeded: {result.host} still running after {timeout} s"
        else:
            reason = f"AlgorithmError: {message or 'the script failed'} (exit code {result.exit_code} on {result.host})"
        tail = log_tail(result.log_path)
        raise StepFailed(
            f"{reason}\nlog: {result.log_path}\n{tail}" if not message else f"{reason}\nlog: {result.log_path}"
        )

    for item in outputs:
        output = item["S3Output"]
        for host in hosts:
            env.s3.upload_dir(maps[host].local(output["LocalPath"]), output["S3Uri"])
    return {
        "ProcessingJobName": env.job_name,
        "ProcessingJobArn": env.arn(f"processing-job/{env.job_name}"),
        "ProcessingJobStatus": "Completed",
        "ExitMessage": "",
        "ProcessingStartTime": started,
        "ProcessingEndTime": time.time(),
        **args,
    }


def _stage_input(env: StepEnvironment, item: dict, path_map: PathMap, index: int, count: int) -> None:
    name = item.get("InputName", "?")
    if "S3Input" not in item:
        kind = next(iter(k for k in item if k not in ("InputName", "AppManaged")), "?")
        raise DefinitionError(f"step {env.name!r}: input {name!r} uses {kind}, which the local runner does not support")
    source = item["S3Input"]
    if item.get("AppManaged"):
        return
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise DefinitionError(
            f"step {env.name!r}: input {name!r}: S3DataType {source['S3DataType']} is not supported locally"
        )
    if source.get("S3InputMode", "File") != "File":
        raise DefinitionError(
            f"step {env.name!r}: input {name!r}: S3InputMode {source['S3InputMode']} is not supported locally"
        )
    sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
    try:
        env.s3.download(source["S3Uri"], path_map.local(source["LocalPath"]), (index, count) if sharded else None)
    except LocalRunnerError as error:
        raise StepFailed(f"ClientError: input {name!r}: {error}") from None


def _check_output(env: StepEnvironment, item: dict) -> None:
    if "S3Output" not in item:
        raise DefinitionError(
            f"step {env.name!r}: output {item.get('OutputName', '?')!r} is not an S3 output; not supported locally"
        )
