"""The batch scoring pipeline definition: a registered model package scores texts in S3.

CreateModel (from ModelPackageArn) -> Transform (InputDataUri -> OutputDataUri/<execution id>/),
built offline with the same session as the training pipeline. Input files hold one text per
line, as ml_code/inference.py reads them: JSON Lines (``{"inputs": "..."}`` or a JSON
string) or single-column CSV without embedded newlines. Each output file
``<input name>.out`` holds one prediction object per input line, in order.
"""

from __future__ import annotations

import warnings

from sagemaker.model import Model
from sagemaker.transformer import Transformer
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagemaker.workflow.steps import TransformStep

from infra.config import EnvironmentConfig
from infra.instance_storage import has_instance_storage, volume_kms_key
from infra.pipeline.network import JobNetwork
from infra.pipeline.retries import JOB_RETRIES, SERVICE_RETRIES
from infra.pipeline.sdk_session import offline_pipeline_session
from ml_code.common.containers import INFERENCE_INSTANCE_TYPES

CONTENT_TYPES = ("application/jsonlines", "text/csv")
# SageMaker packs as many lines as fit into one request of MaxPayloadInMB. 1 MB (the
# smallest) is ~3,000 reviews: enough for full GPU batches, small enough to finish well
# within a timeout and to keep a failed request cheap to retry.
MAX_PAYLOAD_MB = 1
_PAYLOAD_BYTES = MAX_PAYLOAD_MB * 1024 * 1024
TIMEOUT_SECONDS = 3600  # SageMaker's maximum per request
# The handler's request limits guard the real-time endpoint; here a request is whatever
# SageMaker packed, and a 400 fails the whole job. So accept any 1 MB payload: lines of at
# least 2 bytes ("a\n"), no text longer than the payload (the tokenizer truncates anyway).
BATCH_ENVIRONMENT = {
    "MAX_TEXTS_PER_REQUEST": str(_PAYLOAD_BYTES // 2),
    "MAX_CHARS_PER_TEXT": str(_PAYLOAD_BYTES),
    # The model server's own caps, 6.5 MB per response (prediction lines are under 200 bytes)
    # and 60 s per request, fail a payload of many short texts: 43,690 texts of 24 bytes took
    # 58 s on the local stack's CPU and answered 7.7 MB, refused without these two.
    "MMS_MAX_RESPONSE_SIZE": str(_PAYLOAD_BYTES // 2 * 256),
    "SAGEMAKER_MODEL_SERVER_TIMEOUT": str(TIMEOUT_SECONDS),
}


class _PackageModel(Model):
    """A model whose container is a model package, described by no AWS call at build time.

    The SDK's ModelPackage describes the package while building the step (and approves it if
    it is not Approved); here the package ARN is a run-time parameter and approval is a human's.
    """

    def __init__(self, package_arn: ParameterString, **kwargs):
        super().__init__(image_uri=None, **kwargs)
        self.package_arn = package_arn

    def prepare_container_def(self, *args, **kwargs) -> dict:
        return {"ModelPackageName": self.package_arn}


def batch_job_prefix(config: EnvironmentConfig) -> str:
    """Name prefix of the models and transform jobs executions create (the role is scoped to it)."""
    return f"{config.prefix}-batch"


def build_batch_pipeline(
    config: EnvironmentConfig,
    *,
    role_arn: str,
    kms_key_arn: str,
    default_input_uri: str,
    default_output_uri: str,
    work_bucket: str,
    transform_instance_types: tuple[str, ...] = INFERENCE_INSTANCE_TYPES,
    network: JobNetwork | None = None,
) -> Pipeline:
    """The SDK Pipeline; ``transform_instance_types``: what registered packages declare they support."""
    batch = config.batch_scoring
    if batch.instance_type not in transform_instance_types:
        raise ValueError(
            f"batch_scoring.instance_type of {config.name}: {batch.instance_type} is not one of the"
            f" transform instance types registered model packages support ({', '.join(transform_instance_types)})"
        )
    # The volume key is decided at synth, so runs may pick only types of the default's storage kind.
    nvme = has_instance_storage(batch.instance_type)
    allowed_types = [t for t in transform_instance_types if has_instance_storage(t) == nvme]
    session = offline_pipeline_session(config.region, work_bucket)
    job_prefix = batch_job_prefix(config)
    package_arn = ParameterString("ModelPackageArn")  # no default: every run names its model
    input_uri = ParameterString("InputDataUri", default_input_uri)
    output_uri = ParameterString("OutputDataUri", default_output_uri)
    instance_type = ParameterString("InstanceType", batch.instance_type, enum_values=allowed_types)
    instance_count = ParameterInteger("InstanceCount", batch.instance_count)
    content_type = ParameterString("ContentType", CONTENT_TYPES[0], enum_values=list(CONTENT_TYPES))

    # Network isolation: the handler needs nothing but the model directory (its
    # requirements.txt is empty on purpose), so the container gets no outbound network.
    model = _PackageModel(
        package_arn,
        name=job_prefix,
        role=role_arn,
        enable_network_isolation=True,
        vpc_config=network.model_vpc_config() if network else None,
        sagemaker_session=session,
    )
    with warnings.catch_warnings():
        # ModelStep, the SDK's recommended API, builds a CreateModelStep inside, which warns about itself.
        warnings.filterwarnings("ignore", message="We are deprecating the use of CreateModelStep")
        create = ModelStep("PackageModel", step_args=model.create(), retry_policies=SERVICE_RETRIES)
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type=instance_type,
        instance_count=instance_count,
        strategy="MultiRecord",  # GPU batches of INFERENCE_BATCH_SIZE texts within each request
        max_payload=MAX_PAYLOAD_MB,
        max_concurrent_transforms=1,  # one model server worker per GPU; requests would only queue
        assemble_with="Line",
        accept="application/jsonlines",
        # One folder per execution: reruns never mix or overwrite earlier scores.
        output_path=Join(on="/", values=[output_uri, ExecutionVariables.PIPELINE_EXECUTION_ID]),
        output_kms_key=kms_key_arn,
        volume_kms_key=volume_kms_key(batch.instance_type, kms_key_arn),
        env=dict(BATCH_ENVIRONMENT),  # a copy typed as the parameter, dict[str, str | PipelineVariable]
        base_transform_job_name=job_prefix,
        sagemaker_session=session,
    )
    args = transformer.transform(
        data=input_uri,
        content_type=content_type,
        split_type="Line",
        model_client_config={"InvocationsTimeoutInSeconds": TIMEOUT_SECONDS, "InvocationsMaxRetries": 1},
    )
    transform = TransformStep("Score", step_args=args, retry_policies=JOB_RETRIES)
    return Pipeline(
        name=config.batch_pipeline_name,
        parameters=[package_arn, input_uri, output_uri, instance_type, instance_count, content_type],
        steps=[create, transform],
        sagemaker_session=session,
        # Models and jobs are named <prefix>-batch plus an id, not pipelines-<id>: the role can
        # be scoped to this environment's batch resources alone.
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
        pipeline_experiment_config=None,  # scoring is no experiment; saves the Experiments permissions
    )
