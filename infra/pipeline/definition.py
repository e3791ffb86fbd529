"""The pipeline definition JSON, generated offline at synth time.

Values that are CDK tokens (role ARN, bucket names, asset URIs) pass through the SDK as
opaque strings and are resolved by CloudFormation, so the same code yields the same bytes
on every synth and needs neither credentials nor network.
"""

from __future__ import annotations

from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.steps import CacheConfig

from infra.config import EnvironmentConfig
from infra.pipeline.monitoring_steps import baseline_steps
from infra.pipeline.network import JobNetwork
from infra.pipeline.parameters import pipeline_parameters
from infra.pipeline.sdk_session import offline_pipeline_session
from infra.pipeline.step_helpers import StepContext
from infra.pipeline.steps import evaluate_step, gate_step, preprocess_step, train_step
from infra.pipeline.tracking import JobTracking
from ml_code.common.containers import INFERENCE_INSTANCE_TYPES


def build_pipeline(
    config: EnvironmentConfig,
    *,
    name: str,
    role_arn: str,
    code_uri: str,
    default_input_uri: str,
    work_bucket: str,
    models_uri: str,
    kms_key_arn: str,
    images: dict[str, str],
    feature_group_name: str,
    model_package_group: str,
    inference_instance_types: tuple[str, ...] = INFERENCE_INSTANCE_TYPES,
    network: JobNetwork | None = None,
    tracking_uri: str = "",
    code_version: str = "",
) -> Pipeline:
    """The SDK Pipeline object; ``images`` maps training/processing/inference to image URIs;
    ``network``: the private subnets and security groups (None: networking off);
    ``tracking_uri``: the MLflow App ARN, TrackingUri's default ("": tracking off);
    ``code_version``: the code archive's version, each job's ML_CODE_VERSION."""
    session = offline_pipeline_session(config.region, work_bucket)
    params = pipeline_parameters(config, default_input_uri, tracking_uri)
    ctx = StepContext(
        session=session,
        role_arn=role_arn,
        code_uri=code_uri,
        kms_key_arn=kms_key_arn,
        training_image=images["training"],
        processing_image=images["processing"],
        inference_image=images["inference"],
        models_uri=models_uri,
        feature_group_name=feature_group_name,
        base_model=config.pipeline.base_model,
        model_package_group=model_package_group,
        inference_instance_types=inference_instance_types,
        use_spot=config.training.use_spot,
        cache=CacheConfig(enable_caching=config.pipeline.step_caching, expire_after="P30D"),
        monitoring_engine=config.monitoring.engine,
        tracking=JobTracking(uri=params.tracking_uri, experiment=name, code_version=code_version),
        # LinkRun only makes a few API calls: the monitoring jobs' (small) processing type.
        light_instance_type=config.monitoring.instance_type,
        network=network,
    )
    preprocess = preprocess_step(ctx, params)
    train = train_step(ctx, params, preprocess)
    evaluate = evaluate_step(ctx, params, preprocess, train)
    gate = gate_step(ctx, params, train, evaluate, baseline_steps(ctx, params, preprocess, train))
    return Pipeline(
        name=name,
        parameters=params.all(),
        steps=[preprocess, train, evaluate[0], gate],
        sagemaker_session=session,
    )
