"""What the pipelines' steps share: the step context, the code archive, the script runner.

Every processing step runs a script of ``ml_code/`` from one deterministic tar.gz (an S3 URI,
so the SDK uploads nothing): a plain ``Processor`` whose entrypoint unpacks it and runs the
script, which is what the SDK's FrameworkProcessor does through a ``runproc.sh`` it would have
to upload at definition time. steps.py (the training pipeline), monitoring_steps.py (its
reference) and monitor_definition.py (the monitoring pipeline) build on these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sagemaker.inputs import TrainingInput
from sagemaker.processing import ProcessingInput, Processor
from sagemaker.workflow.entities import PipelineVariable
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.steps import CacheConfig, TrainingStep

from infra.config import is_staged_model
from infra.pipeline.network import JobNetwork, processing_network
from infra.pipeline.tracking import JobTracking

if TYPE_CHECKING:
    from sagemaker.workflow.pipeline_context import PipelineSession

PROCESSING_ROOT = "/opt/ml/processing"
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
CODE_INPUT = "code"
BASELINES_PREFIX = "baselines"


@dataclass(frozen=True)
class StepContext:
    """What every step needs besides the run-time parameters (CDK tokens are fine here)."""

    session: PipelineSession  # the offline one (sdk_session.py)
    role_arn: str
    code_uri: str  # s3:// URI of the ml_code tar.gz
    kms_key_arn: str
    training_image: str
    processing_image: str
    inference_image: str
    models_uri: str  # s3:// prefix for training output and checkpoints
    feature_group_name: str
    base_model: str
    model_package_group: str
    inference_instance_types: tuple[str, ...]
    use_spot: bool
    cache: CacheConfig
    monitoring_engine: str  # "evidently" or "model_monitor" (adds Model Monitor's baseline step)
    tracking: JobTracking  # what every job is told about MLflow tracking
    light_instance_type: str  # jobs that only make a few API calls (LinkRun)
    network: JobNetwork | None = None  # None: AWS's shared network (network.mode "none")


def script_entrypoint(script: str) -> list[str | PipelineVariable]:
    """Unpack the code archive (named <asset hash>.gz by CDK) and run ml_code/<script> with
    the step's arguments ("$@"): a Processor's entrypoint (typed as its parameter)."""
    command = (
        f'mkdir -p /tmp/code && tar -xzf {CODE_DIR}/*.gz -C /tmp/code && exec python3 /tmp/code/ml_code/{script} "$@"'
    )
    return ["/bin/bash", "-c", command, "--"]


def script_processor(
    ctx: StepContext,
    params,
    script: str,
    base_job_name: str,
    instance_count: int | None = None,
    *,
    step: str,
    inputs: Iterable[ProcessingInput] = (),
    data: Mapping[str, str | PipelineVariable] | None = None,
    isolated: bool = False,
    instance_type: str | None = None,
) -> Processor:
    """A processing job in the processing image running ``ml_code/<script>`` as step ``step``;
    ``params``: the training pipeline's PipelineParameters (instance type and count);
    ``inputs``: what the job reads (each data input's URI reaches it as DATA_URI_<NAME>, with
    the tracking variables); ``data``: those URIs by name instead, for a job whose data is
    no processing input; ``isolated``: the script calls no AWS API, so the job gets no
    network (processing_network); ``instance_type``: instead of ProcessingInstanceType."""
    return Processor(
        role=ctx.role_arn,
        image_uri=ctx.processing_image,
        instance_type=params.processing_instance_type if instance_type is None else instance_type,
        instance_count=params.processing_instance_count if instance_count is None else instance_count,
        entrypoint=script_entrypoint(script),
        volume_kms_key=ctx.kms_key_arn,
        output_kms_key=ctx.kms_key_arn,
        base_job_name=base_job_name,
        env=ctx.tracking.environment(step, data_uris(inputs) if data is None else data),
        network_config=processing_network(ctx.network, isolated=isolated),
        sagemaker_session=ctx.session,
    )


def data_uris(inputs: Iterable[ProcessingInput]) -> dict[str, str | PipelineVariable]:
    """Input name -> S3 URI of each input but the code archive (ML_CODE_VERSION names that)."""
    return {str(i.input_name): i.source for i in inputs if i.input_name and i.input_name != CODE_INPUT and i.source}


def code_input(code_uri: str) -> ProcessingInput:
    return ProcessingInput(source=code_uri, destination=CODE_DIR, input_name=CODE_INPUT)


def model_input(train: TrainingStep) -> ProcessingInput:
    """The trained model.tar.gz, where evaluate.py and baseline.py look for it."""
    return ProcessingInput(
        source=train.properties.ModelArtifacts.S3ModelArtifacts,
        destination=f"{PROCESSING_ROOT}/model",
        input_name="model",
    )


# A base model staged in S3 (pipeline.base_model = s3://...) reaches the jobs as an input: no
# job downloads from the Hugging Face hub (private subnets have no route to the internet).
BASE_MODEL_CHANNEL = "model"  # train.py prefers SM_CHANNEL_MODEL to --model_name_or_path
BASE_MODEL_TRAINING_DIR = f"/opt/ml/input/data/{BASE_MODEL_CHANNEL}"
TOKENIZER_INPUT = "tokenizer"
TOKENIZER_DIR = f"{PROCESSING_ROOT}/input/{TOKENIZER_INPUT}"


def tokenizer_source(ctx: StepContext) -> tuple[str, list[ProcessingInput]]:
    """(Preprocess's --tokenizer, its extra inputs): a hub id as it is, or the staged folder as
    an input (FullyReplicated: every instance tokenizes) and its container path."""
    if not is_staged_model(ctx.base_model):
        return ctx.base_model, []
    staged = ProcessingInput(source=ctx.base_model, destination=TOKENIZER_DIR, input_name=TOKENIZER_INPUT)
    return TOKENIZER_DIR, [staged]


def channel_uris(channels: dict[str, TrainingInput]) -> dict[str, str | PipelineVariable]:
    """Channel name -> S3 URI, for the training job's DATA_URI_<CHANNEL> variables."""
    return {name: channel.config["DataSource"]["S3DataSource"]["S3Uri"] for name, channel in channels.items()}


def base_model_source(ctx: StepContext) -> tuple[str, dict[str, TrainingInput]]:
    """(Train's model_name_or_path, its extra channels): a hub id as it is, or the staged
    folder as the ``model`` channel and that channel's container path."""
    if not is_staged_model(ctx.base_model):
        return ctx.base_model, {}
    return BASE_MODEL_TRAINING_DIR, {BASE_MODEL_CHANNEL: TrainingInput(ctx.base_model)}


def baselines_uri(ctx: StepContext, what: str) -> Join:
    """<models bucket>/baselines/<execution id>/<what>: what monitoring needs of the package
    (reference, evaluation), kept beside its model.tar.gz so every environment serving the
    package can read it."""
    return Join(on="/", values=[ctx.models_uri, BASELINES_PREFIX, ExecutionVariables.PIPELINE_EXECUTION_ID, what])
