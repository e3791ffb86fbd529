"""A Training step as a local training job under the SageMaker training-toolkit contract.

Per host (``algo-1``...; ResourceConfig.InstanceCount) the runner prepares what the
container would: the submit directory (``sagemaker_submit_directory``, a tar.gz) unpacked
in ``/opt/ml/code``, each InputDataConfig channel in ``/opt/ml/input/data/<channel>``,
``/opt/ml/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json``, checkpoints
restored from CheckpointConfig.S3Uri into its LocalPath, and the ``SM_*`` environment
(SM_MODEL_DIR, SM_CHANNEL_<NAME>, SM_HPS, SM_HP_<NAME>, SM_OUTPUT_DATA_DIR, ...). It runs
``python3 <sagemaker_program> --name value ...`` (user hyperparameters, sorted, JSON-decoded
as the toolkit does) from /opt/ml/code, or, with several processes or hosts, the same under
``torchrun`` (gloo on CPU, hosts rendezvous on 127.0.0.1). Afterwards algo-1's /opt/ml/model
becomes ``<S3OutputPath>/<job>/output/model.tar.gz`` and /opt/ml/output/data
``output.tar.gz``, checkpoints go back to S3, and the log is scraped with MetricDefinitions.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import sys
import tarfile
import time
from pathlib import Path

from local_runner.container_paths import PathMap
from local_runner.errors import DefinitionError, LocalRunnerError, StepFailed
from local_runner.metrics import final_metric_data, scrape
from local_runner.processes import HostProcess, log_tail, run_hosts
from local_runner.step_environment import StepEnvironment

CODE_DIR = "/opt/ml/code"
MODEL_DIR = "/opt/ml/model"
INPUT_DIR = "/opt/ml/input"
CONFIG_DIR = "/opt/ml/input/config"
DATA_DIR = "/opt/ml/input/data"
OUTPUT_DIR = "/opt/ml/output"
OUTPUT_DATA_DIR = "/opt/ml/output/data"
FAILURE_FILE = "/opt/ml/output/failure"
DEFAULT_CHECKPOINT_DIR = "/opt/ml/checkpoints"
DISTRIBUTION_FLAGS = (
    "sagemaker_torch_distributed_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_mpi_enabled",
    "sagemaker_pytorch_xla_multi_worker_enabled",
)


def decode_hyperparameters(raw: dict[str, str]) -> dict:
    """hyperparameters.json values are JSON text (the SDK json.dumps them); the toolkit decodes
    each one, keeping the raw string when it is not JSON."""
    decoded = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError:
            decoded[key] = value
    return decoded


def to_cmd_args(hyperparameters: dict) -> list[str]:
    """``--name value`` pairs, sorted by name, values as the toolkit renders them (str(); JSON for dicts)."""
    args = []
    for key in sorted(hyperparameters):
        value = hyperparameters[key]
        text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
        args += [f"--{key}", text]
    return args


def run_training_step(env: StepEnvironment) -> dict:
    args = env.arguments
    algorithm = args.get("AlgorithmSpecification") or {}
    mode = algorithm.get("TrainingInputMode", "File")
    if mode == "Pipe":
        raise DefinitionError(f"step {env.name!r}: TrainingInputMode Pipe is not supported locally")
    hyperparameters = decode_hyperparameters(args.get("HyperParameters") or {})
    framework = {k: v for k, v in hyperparameters.items() if k.startswith("sagemaker_")}
    user = {k: v for k, v in hyperparameters.items() if not k.startswith("sagemaker_")}
    program = framework.get("sagemaker_program")
    if not program:
        raise DefinitionError(
            f"step {env.name!r}: no sagemaker_program hyperparameter;"
            " an image-defined algorithm cannot run without its container"
        )
    resources = args.get("ResourceConfig") or {}
    count = int(resources.get("InstanceCount", 1))
    instance_type = str(resources.get("InstanceType", "local"))
    processes = env.train_processes
    distributed = [flag for flag in DISTRIBUTION_FLAGS if framework.get(flag) in (True, "true", "True")]
    torch_distributed = "sagemaker_torch_distributed_enabled" in distributed
    others = [flag for flag in distributed if flag != "sagemaker_torch_distributed_enabled"]
    if others and (count > 1 or processes > 1):
        raise DefinitionError(
            f"step {env.name!r}: distribution {others} is not supported locally (torch_distributed is)"
        )
    if processes > 1 and not torch_distributed:
        raise DefinitionError(
            f"step {env.name!r}: --train-processes {processes} needs torch_distributed in the definition;"
            " without it SageMaker runs one process per host"
        )
    # As the framework containers do: torchrun with torch_distributed, else the script once per host.
    use_torchrun = torch_distributed and (count > 1 or processes > 1)
    env.note(f"runs on this machine's Python ({sys.executable}) instead of image {algorithm.get('TrainingImage', '?')}")
    env.note(f"instance type {instance_type}: {processes} process(es) per host on this machine's CPU/GPU")
    if args.get("EnableManagedSpotTraining"):
        env.note("managed Spot training has no local meaning: the job runs once, uninterrupted")
    channels = args.get("InputDataConfig") or []
    checkpoint = args.get("CheckpointConfig") or {}
    checkpoint_dir = checkpoint.get("LocalPath") or DEFAULT_CHECKPOINT_DIR
    output_path = (args.get("OutputDataConfig") or {}).get("S3OutputPath")
    if not output_path:
        raise DefinitionError(f"step {env.name!r}: OutputDataConfig.S3OutputPath is missing")

    hosts = [f"algo-{i + 1}" for i in range(count)]
    master_port = _free_port() if use_torchrun else None
    started = time.time()
    specs, maps = [], {}
    for index, host in enumerate(hosts):
        path_map = env.path_map(host)
        path_map.create()
        maps[host] = path_map
        _stage_code(env, framework.get("sagemaker_submit_directory"), path_map)
        channel_dirs = {}
        for channel in channels:
            channel_dirs[channel["ChannelName"]] = _stage_channel(env, channel, path_map, index, count)
        for folder in (MODEL_DIR, OUTPUT_DATA_DIR, f"{OUTPUT_DIR}/intermediate", checkpoint_dir):
            path_map.local(folder).mkdir(parents=True, exist_ok=True)
        if checkpoint.get("S3Uri") and env.s3.objects(checkpoint["S3Uri"]):
            env.s3.download(checkpoint["S3Uri"], path_map.local(checkpoint_dir))
            env.console.print(f"    {env.name}/{host}: checkpoints restored from {checkpoint['S3Uri']}")
        resource_config = {
            "current_host": host,
            "current_instance_type": instance_type,
            "current_group_name": "homogeneousCluster",
            "hosts": hosts,
            "instance_groups": [
                {"instance_group_name": "homogeneousCluster", "instance_type": instance_type, "hosts": hosts}
            ],
            "network_interface_name": "lo",
        }
        input_data_config = {
            c["ChannelName"]: {
                "TrainingInputMode": c.get("InputMode", mode),
                "S3DistributionType": c["DataSource"]["S3DataSource"].get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": c.get("RecordWrapperType", "None"),
            }
            for c in channels
        }
        config_dir = path_map.local(CONFIG_DIR)
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "hyperparameters.json").write_text(json.dumps(args.get("HyperParameters") or {}, indent=2))
        (config_dir / "inputdataconfig.json").write_text(json.dumps(input_data_config, indent=2))
        (config_dir / "resourceconfig.json").write_text(json.dumps(resource_config, indent=2))
        cmd_args = to_cmd_args(user)
        sm_env = _sm_environment(
            path_map,
            host,
            hosts,
            instance_type,
            user,
            framework,
            channel_dirs,
            resource_config,
            input_data_config,
            cmd_args,
            program,
        )
        sm_env["TRAINING_JOB_NAME"] = env.job_name
        sm_env["TRAINING_JOB_ARN"] = env.arn(f"training-job/{env.job_name}")
        if use_torchrun:
            launcher = [
                "python3",
                "-m",
                "torch.distributed.run",
                "--nnodes",
                str(count),
                "--nproc_per_node",
                str(processes),
                "--node_rank",
                str(index),
                "--master_addr",
                "127.0.0.1",
                "--master_port",
                str(master_port),
            ]
        else:
            launcher = ["python3"]
        specs.append(
            HostProcess(
                host=host,
                command=launcher + [program, *cmd_args],
                cwd=path_map.local(CODE_DIR),
                env=env.process_environment(
                    path_map, {**sm_env, **path_map.rewrite_all(args.get("Environment") or {})}
                ),
                log_path=env.step_dir / "logs" / f"{host}.log",
            )
        )
    if use_torchrun:
        env.note(f"torchrun: {count} host(s) x {processes} process(es), rendezvous on 127.0.0.1:{master_port}")

    definitions = algorithm.get("MetricDefinitions") or []
    compiled = [re.compile(d["Regex"]) for d in definitions if d.get("Regex")]
    timeout = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")

    def echo(host: str, line: str) -> None:
        env.console.step_output(
            env.name, host, line, important=host == hosts[0] and any(p.search(line) for p in compiled)
        )

    results = run_hosts(specs, echo=echo, timeout=timeout)
    if checkpoint.get("S3Uri"):
        for host in hosts:
            env.s3.upload_dir(maps[host].local(checkpoint_dir), checkpoint["S3Uri"])
    for result in results:
        if result.exit_code == 0 or result.stopped == "another host failed":
            continue
        failure = maps[result.host].local(FAILURE_FILE)
        message = failure.read_text(errors="replace").strip() if failure.is_file() else ""
        if result.stopped == "timeout":
            reason = f"MaxRuntimeExceeded: training still running after {timeout} s"
        else:
            reason = (
                f"AlgorithmError: {message or 'the training script failed'}"
                f" (exit code {result.exit_code} on {result.host})"
            )
        raise StepFailed(f"{reason}\nlog: {result.log_path}\n{log_tail(result.log_path)}")

    job_output = f"{output_path.rstrip('/')}/{env.job_name}/output"
    leader = maps[hosts[0]]
    model_uri = f"{job_output}/model.tar.gz"
    _tar_folder(leader.local(MODEL_DIR), env.s3.path(model_uri))
    _tar_folder(leader.local(OUTPUT_DATA_DIR), env.s3.path(f"{job_output}/output.tar.gz"))
    ended = time.time()
    series = scrape(results[0].log_path, definitions)
    (env.step_dir / "metrics.json").write_text(json.dumps(series, indent=2))
    return {
        "TrainingJobName": env.job_name,
        "TrainingJobArn": env.arn(f"training-job/{env.job_name}"),
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": model_uri},
        "FinalMetricDataList": final_metric_data(series, ended),
        "TrainingStartTime": started,
        "TrainingEndTime": ended,
        "TrainingTimeInSeconds": int(ended - started),
        "BillableTimeInSeconds": 0,
        **args,
    }


def _sm_environment(
    path_map,
    host,
    hosts,
    instance_type,
    user,
    framework,
    channel_dirs,
    resource_config,
    input_data_config,
    cmd_args,
    program,
) -> dict[str, str]:
    """The SM_* variables of the SageMaker training toolkit (sagemaker_training.environment)."""

    def local(container_path: str) -> str:
        return str(path_map.local(container_path))

    module = Path(program).with_suffix("").as_posix().replace("/", ".")
    env = {
        "SM_MODEL_DIR": local(MODEL_DIR),
        "SM_INPUT_DIR": local(INPUT_DIR),
        "SM_INPUT_CONFIG_DIR": local(CONFIG_DIR),
        "SM_OUTPUT_DIR": local(OUTPUT_DIR),
        "SM_OUTPUT_DATA_DIR": local(OUTPUT_DATA_DIR),
        "SM_OUTPUT_INTERMEDIATE_DIR": local(f"{OUTPUT_DIR}/intermediate"),
        "SM_MODULE_DIR": str(framework.get("sagemaker_submit_directory", "")),
        "SM_MODULE_NAME": module,
        "SM_USER_ENTRY_POINT": program,
        "SM_CHANNELS": json.dumps(sorted(channel_dirs)),
        "SM_HPS": json.dumps(user, sort_keys=True),
        "SM_USER_ARGS": json.dumps(cmd_args),
        "SM_FRAMEWORK_PARAMS": json.dumps(framework, sort_keys=True),
        "SM_HOSTS": json.dumps(hosts),
        "SM_CURRENT_HOST": host,
        "SM_CURRENT_INSTANCE_TYPE": instance_type,
        "SM_CURRENT_INSTANCE_GROUP": "homogeneousCluster",
        "SM_NETWORK_INTERFACE_NAME": "lo",
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_NUM_NEURONS": "0",
        "SM_LOG_LEVEL": str(framework.get("sagemaker_container_log_level", 20)),
        "SM_RESOURCE_CONFIG": json.dumps(resource_config),
        "SM_INPUT_DATA_CONFIG": json.dumps(input_data_config),
    }
    for name, folder in channel_dirs.items():
        env[f"SM_CHANNEL_{name.upper()}"] = str(folder)
    for name, value in user.items():
        env[f"SM_HP_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    env["SM_TRAINING_ENV"] = json.dumps(
        {
            "hosts": hosts,
            "current_host": host,
            "hyperparameters": user,
            "channel_input_dirs": {k: str(v) for k, v in channel_dirs.items()},
            "model_dir": env["SM_MODEL_DIR"],
            "output_data_dir": env["SM_OUTPUT_DATA_DIR"],
            "user_entry_point": program,
            "module_name": module,
            "framework_module": None,
        }
    )
    return env


def _stage_code(env: StepEnvironment, submit_directory, path_map: PathMap) -> None:
    code_dir = path_map.local(CODE_DIR)
    code_dir.mkdir(parents=True, exist_ok=True)
    if not submit_directory:
        raise DefinitionError(f"step {env.name!r}: no sagemaker_submit_directory; nothing to run locally")
    if not str(submit_directory).startswith("s3://"):
        raise DefinitionError(f"step {env.name!r}: sagemaker_submit_directory {submit_directory!r} is not an s3:// URI")
    archive = env.s3.path(submit_directory)
    if str(submit_directory).endswith(".tar.gz") and archive.is_file():
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(code_dir, filter="data")
        return
    try:
        env.s3.download(submit_directory, code_dir)
    except LocalRunnerError as error:
        raise StepFailed(f"ClientError: code: {error}") from None


def _stage_channel(env: StepEnvironment, channel: dict, path_map: PathMap, index: int, count: int) -> Path:
    name = channel["ChannelName"]
    source = (channel.get("DataSource") or {}).get("S3DataSource")
    if source is None:
        raise DefinitionError(f"step {env.name!r}: channel {name!r} is not an S3 data source; not supported locally")
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise DefinitionError(
            f"step {env.name!r}: channel {name!r}: S3DataType {source['S3DataType']} is not supported locally"
        )
    if channel.get("InputMode") == "Pipe":
        raise DefinitionError(f"step {env.name!r}: channel {name!r}: Pipe mode is not supported locally")
    folder = path_map.local(f"{DATA_DIR}/{name}")
    sharded = source.get("S3DataDistributionType") == "ShardedByS3Key"
    try:
        env.s3.download(source["S3Uri"], folder, (index, count) if sharded else None)
    except LocalRunnerError as error:
        raise StepFailed(f"ClientError: channel {name!r}: {error}") from None
    return folder


def _tar_folder(folder: Path, target: Path) -> None:
    """SageMaker's upload of a job folder: a tar.gz of its contents (members relative to it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(target, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
