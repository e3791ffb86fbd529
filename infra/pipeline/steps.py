"""The training pipeline's steps, built with the SageMaker SDK's classic workflow API.

Preprocess -> Train -> Evaluate -> (accuracy >= MinAccuracy and largest facet accuracy gap
    <= MaxFacetAccuracyGap ? BaselineFeatures [-> DataQualityBaseline] -> Register -> LinkRun
    : Fail).
The baseline steps live in ``monitoring_steps`` (DataQualityBaseline only with the opt-in
Model Monitor engine). Every job of ours gets the MLflow tracking variables (tracking.py);
Register records the training run with the package and LinkRun tags the runs with it.

Code reaches the containers as one deterministic tar.gz of ``ml_code/`` (an S3 URI, so the
SDK uploads nothing). Training uses the Hugging Face estimator's ``source_dir``; processing
steps run scripts from the same archive (step_helpers.py).
"""

from __future__ import annotations

from sagemaker.huggingface import HuggingFace
from sagemaker.inputs import TrainingInput
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThanOrEqualTo
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from infra.pipeline.monitoring_steps import BaselineSteps
from infra.pipeline.parameters import PipelineParameters
from infra.pipeline.retries import JOB_RETRIES, SERVICE_RETRIES
from infra.pipeline.step_helpers import (
    PROCESSING_ROOT,
    StepContext,
    base_model_source,
    baselines_uri,
    channel_uris,
    code_input,
    model_input,
    script_processor,
    tokenizer_source,
)
from ml_code.common.facets import MAX_ACCURACY_GAP_JSON_PATH  # evaluate.py writes it, 0.0 without facets
from ml_code.common.splits import REPORT_DIR, SPLITS, TEST, TRAIN, VALIDATION
from ml_code.tracking.names import (
    EVALUATION_RUN_KEY,
    RUN_ID_METADATA,
    TRACKING_KEY,
    TRACKING_URI_METADATA,
    TRAINING_RUN_KEY,
)

ACCURACY_JSON_PATH = "multiclass_classification_metrics.accuracy.value"
EVALUATION_FILE = "evaluation.json"
# Where evaluate.py records the MLflow runs that produced and scored the model.
TRAINING_RUN_JSON_PATH = f"{TRACKING_KEY}.{TRAINING_RUN_KEY}"
EVALUATION_RUN_JSON_PATH = f"{TRACKING_KEY}.{EVALUATION_RUN_KEY}"
PREPROCESS, TRAIN_STEP, EVALUATE, REGISTER, LINK_RUN = "Preprocess", "Train", "Evaluate", "Register", "LinkRun"


def preprocess_step(ctx: StepContext, params: PipelineParameters) -> ProcessingStep:
    tokenizer, tokenizer_inputs = tokenizer_source(ctx)
    inputs = [
        code_input(ctx.code_uri),
        # Each instance gets its own subset of the input files (scale-out by files).
        ProcessingInput(
            source=params.input_data_uri,
            destination=f"{PROCESSING_ROOT}/input/data",
            input_name="data",
            s3_data_distribution_type="ShardedByS3Key",
        ),
        *tokenizer_inputs,
    ]
    processor = script_processor(ctx, params, "preprocess.py", "preprocess", step=PREPROCESS, inputs=inputs)
    outputs = [
        ProcessingOutput(output_name=name, source=f"{PROCESSING_ROOT}/output/{name}") for name in (*SPLITS, REPORT_DIR)
    ]
    args = processor.run(
        inputs=inputs,
        outputs=outputs,
        arguments=[
            "--tokenizer",
            tokenizer,
            "--max-seq-length",
            params.max_seq_length.to_string(),
            "--feature-group-name",
            ctx.feature_group_name,
        ],
    )
    return ProcessingStep(PREPROCESS, step_args=args, cache_config=ctx.cache, retry_policies=JOB_RETRIES)


def train_step(ctx: StepContext, params: PipelineParameters, preprocess: ProcessingStep) -> TrainingStep:
    from ml_code.common.containers import TRAINING_IMAGE
    from ml_code.training.metric_definitions import METRIC_DEFINITIONS

    # One checkpoint prefix per execution: a Spot restart resumes its own run, never an older one.
    checkpoints = Join(on="/", values=[ctx.models_uri, "checkpoints", ExecutionVariables.PIPELINE_EXECUTION_ID])
    model_name_or_path, model_channels = base_model_source(ctx)
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    channels = {
        TRAIN: TrainingInput(outputs[TRAIN].S3Output.S3Uri),
        VALIDATION: TrainingInput(outputs[VALIDATION].S3Output.S3Uri),
        **model_channels,
    }
    estimator = HuggingFace(
        entry_point="ml_code/train.py",
        source_dir=ctx.code_uri,
        image_uri=ctx.training_image,
        transformers_version=TRAINING_IMAGE.transformers_version,
        pytorch_version=TRAINING_IMAGE.pytorch_version,
        py_version=TRAINING_IMAGE.py_version,
        role=ctx.role_arn,
        instance_type=params.training_instance_type,
        instance_count=params.training_instance_count,
        # torchrun on every instance: data parallel over all GPUs of all instances.
        distribution={"torch_distributed": {"enabled": True}},
        hyperparameters={
            "model_name_or_path": model_name_or_path,
            "epochs": params.epochs,
            "learning_rate": params.learning_rate,
            "per_device_train_batch_size": params.batch_size,
            "max_seq_length": params.max_seq_length,
        },
        metric_definitions=METRIC_DEFINITIONS,
        environment=ctx.tracking.environment(TRAIN_STEP, channel_uris(channels)),
        output_path=Join(on="/", values=[ctx.models_uri, "training"]),
        checkpoint_s3_uri=checkpoints,
        volume_kms_key=ctx.kms_key_arn,
        output_kms_key=ctx.kms_key_arn,
        encrypt_inter_container_traffic=True,
        # In the private subnets where networking is on (the jobs' group lets instances talk
        # to each other for multi-node DDP); not isolated: the toolkit fetches the code archive.
        subnets=list(ctx.network.subnet_ids) if ctx.network else None,
        security_group_ids=[ctx.network.jobs_security_group] if ctx.network else None,
        max_run=24 * 3600,
        sagemaker_session=ctx.session,
        # The estimator's defaults when off: no Spot, no max_wait.
        use_spot_instances=ctx.use_spot,
        max_wait=2 * 24 * 3600 if ctx.use_spot else None,
    )
    args = estimator.fit(channels)
    return TrainingStep(TRAIN_STEP, step_args=args, cache_config=ctx.cache, retry_policies=JOB_RETRIES)


def evaluate_step(
    ctx: StepContext, params: PipelineParameters, preprocess: ProcessingStep, train: TrainingStep
) -> tuple[ProcessingStep, PropertyFile]:
    """Scores the trained model on the test split; evaluation.json feeds the gate and the registry."""
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_FILE)
    inputs = [
        code_input(ctx.code_uri),
        model_input(train),
        ProcessingInput(
            source=preprocess.properties.ProcessingOutputConfig.Outputs[TEST].S3Output.S3Uri,
            destination=f"{PROCESSING_ROOT}/test",
            input_name=TEST,
        ),
    ]
    # No network at all unless it logs to MLflow (evaluate.py calls no other AWS API).
    processor = script_processor(
        ctx, params, "evaluate.py", "evaluate", step=EVALUATE, inputs=inputs, isolated=not ctx.tracking.enabled
    )
    args = processor.run(
        inputs=inputs,
        # Beside the package's monitoring reference, where every environment serving the
        # package may read it: the monitoring job compares live accuracy with this one.
        outputs=[
            ProcessingOutput(
                output_name="evaluation",
                source=f"{PROCESSING_ROOT}/evaluation",
                destination=baselines_uri(ctx, "evaluation"),
            )
        ],
    )
    step = ProcessingStep(
        EVALUATE, step_args=args, property_files=[report], cache_config=ctx.cache, retry_policies=JOB_RETRIES
    )
    return step, report


def tracking_run(evaluate: tuple[ProcessingStep, PropertyFile], json_path: str) -> JsonGet:
    """A run id evaluation.json records ("none" where the run was not tracked)."""
    evaluate_job, report = evaluate
    return JsonGet(step_name=evaluate_job.name, property_file=report, json_path=json_path)


def link_run_step(
    ctx: StepContext,
    params: PipelineParameters,
    train: TrainingStep,
    evaluate: tuple[ProcessingStep, PropertyFile],
    register: ModelStep,
) -> ProcessingStep:
    """Tags the training and evaluation runs with the package Register created (ml_code/link_run.py).

    Always in the definition: TrackingUri may be set per execution (the local runner points it
    at its own store), and with "none" the script logs one line and succeeds. It never fails
    the execution over tracking; one instance of the environment's small processing type, as
    it only makes a few API calls; not cached: each registration is a new package to link.
    Not isolated: it talks to MLflow.
    """
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts
    inputs = [code_input(ctx.code_uri)]
    processor = script_processor(
        ctx,
        params,
        "link_run.py",
        "link-run",
        1,
        step=LINK_RUN,
        data={"model": model_data},  # the model it links, read by no input
        instance_type=ctx.light_instance_type,
    )
    args = processor.run(
        inputs=inputs,
        arguments=[
            "--model-package-arn",
            register.properties.ModelPackageArn,
            "--model-data-uri",
            model_data,
            "--run-id",
            tracking_run(evaluate, TRAINING_RUN_JSON_PATH),
            "--run-id",
            tracking_run(evaluate, EVALUATION_RUN_JSON_PATH),
        ],
    )
    return ProcessingStep(LINK_RUN, step_args=args, depends_on=[register], retry_policies=JOB_RETRIES)


def gate_step(
    ctx: StepContext,
    params: PipelineParameters,
    train: TrainingStep,
    evaluate: tuple[ProcessingStep, PropertyFile],
    baseline: BaselineSteps,
) -> ConditionStep:
    """Passed: baseline the model's features, then register it with its metrics and reference. Else: fail."""
    evaluate_job, report = evaluate
    accuracy = JsonGet(step_name=evaluate_job.name, property_file=report, json_path=ACCURACY_JSON_PATH)
    facet_gap = JsonGet(step_name=evaluate_job.name, property_file=report, json_path=MAX_ACCURACY_GAP_JSON_PATH)
    evaluation_uri = Join(
        on="/",
        values=[evaluate_job.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri, EVALUATION_FILE],
    )
    model = Model(
        image_uri=ctx.inference_image,
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=ctx.role_arn,
        sagemaker_session=ctx.session,
    )
    # model.tar.gz already holds code/inference.py (train.py writes it): no repack step.
    register = ModelStep(
        name=REGISTER,
        step_args=model.register(
            content_types=["application/json", "application/jsonlines", "text/csv"],
            response_types=["application/json"],
            inference_instances=list(ctx.inference_instance_types),
            transform_instances=list(ctx.inference_instance_types),
            model_package_group_name=ctx.model_package_group,
            approval_status=params.model_approval_status,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(s3_uri=evaluation_uri, content_type="application/json"),
                **baseline.model_metrics(),
            ),
            drift_check_baselines=baseline.drift_check_baselines(),
            # The SDK passes PipelineVariables through here ({"Get": ...}, {"Std:JsonGet": ...}).
            customer_metadata_properties={
                **baseline.customer_metadata(),
                RUN_ID_METADATA: tracking_run(evaluate, TRAINING_RUN_JSON_PATH),
                TRACKING_URI_METADATA: ctx.tracking.uri,
            },
            description="RoBERTa review sentiment classifier (negative / neutral / positive)",
        ),
        retry_policies=SERVICE_RETRIES,
    )
    fail = FailStep(
        name="AccuracyBelowThreshold",
        error_message=Join(
            on=" ",
            values=[
                "Model accuracy",
                accuracy,
                "(MinAccuracy",
                params.min_accuracy,
                ") or largest facet accuracy gap",
                facet_gap,
                "(MaxFacetAccuracyGap",
                params.max_facet_accuracy_gap,
                ") failed the gate",
            ],
        ),
    )
    return ConditionStep(
        name="AccuracyGate",
        # The SDK's own examples compare JsonGet (a PipelineVariable, which it handles) but its
        # annotation of ``left`` leaves JsonGet out.
        conditions=[
            ConditionGreaterThanOrEqualTo(left=accuracy, right=params.min_accuracy),  # type: ignore[arg-type]
            ConditionLessThanOrEqualTo(left=facet_gap, right=params.max_facet_accuracy_gap),  # type: ignore[arg-type]
        ],
        if_steps=[*baseline.steps, register, link_run_step(ctx, params, train, evaluate, register)],
        else_steps=[fail],
    )
