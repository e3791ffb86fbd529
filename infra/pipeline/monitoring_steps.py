"""The monitoring reference of a model that passed the gate: BaselineFeatures [-> DataQualityBaseline].

BaselineFeatures runs ml_code/baseline.py: the trained model scores a sample of the train
split, and each review becomes a row of ml_code/monitoring/record_preprocessor.py's FEATURES
(the rows the monitoring job computes from captured traffic). Its ``reference`` output
(reference.csv: the text, the features and the true label) goes to
<models bucket>/baselines/<execution id>/reference/, and Register records that URI with the
package (CustomerMetadataProperties["MonitoringReferenceUri"]): the Evidently monitoring job
(ml_code/monitor.py) compares traffic with the reference of whichever package is served.

Only with ``monitoring.engine: "model_monitor"`` (accounts that already use Model Monitor,
which AWS closed to new customers) does DataQualityBaseline follow: a QualityCheckStep in which
SageMaker's Model Monitor analyzer turns baseline.csv into statistics.json and
constraints.json under <models bucket>/baselines/<execution id>/data-quality/. Register then
attaches both to the model package, as ModelMetrics.ModelDataQuality and as
DriftCheckBaselines.ModelDataQuality (what the serving stack's monitoring schedule reads).

skip_check: no drift check against an earlier package's baseline (a first model has none, and
a retrained model is expected to see different data); register_new_baseline: the computed
baseline is the step's BaselineUsedForDriftCheck* too, so no registry lookup (and no group name).
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.drift_check_baselines import DriftCheckBaselines
from sagemaker.model_metrics import MetricsSource
from sagemaker.model_monitor.dataset_format import DatasetFormat
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.check_job_config import CheckJobConfig
from sagemaker.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep
from sagemaker.workflow.steps import ProcessingStep, TrainingStep

from infra.pipeline.parameters import PipelineParameters
from infra.pipeline.retries import JOB_RETRIES
from infra.pipeline.step_helpers import (
    PROCESSING_ROOT,
    StepContext,
    baselines_uri,
    code_input,
    model_input,
    script_processor,
)
from ml_code.common.splits import REPORT_DIR, TRAIN
from ml_code.monitoring.reference import METADATA_KEY as REFERENCE_METADATA_KEY  # the job reads it back

BASELINE_FEATURES = "BaselineFeatures"
DATA_QUALITY = "DataQualityBaseline"
DATASET_OUTPUT, SUMMARY_OUTPUT, REFERENCE_OUTPUT = "dataset", "summary", "reference"
JSON = "application/json"


def baseline_features_step(
    ctx: StepContext, params: PipelineParameters, preprocess: ProcessingStep, train: TrainingStep
) -> ProcessingStep:
    split_outputs = preprocess.properties.ProcessingOutputConfig.Outputs
    inputs = [
        code_input(ctx.code_uri),
        model_input(train),
        ProcessingInput(
            source=split_outputs[TRAIN].S3Output.S3Uri, destination=f"{PROCESSING_ROOT}/train", input_name=TRAIN
        ),
        ProcessingInput(
            source=split_outputs[REPORT_DIR].S3Output.S3Uri,
            destination=f"{PROCESSING_ROOT}/report",
            input_name=REPORT_DIR,
        ),
    ]
    # One instance: the sample is bounded (--max-records), and N instances would write N copies.
    # Isolated: baseline.py neither calls AWS nor logs to MLflow (the variables are harmless).
    processor = script_processor(
        ctx, params, "baseline.py", "baseline", instance_count=1, step=BASELINE_FEATURES, inputs=inputs, isolated=True
    )
    args = processor.run(
        inputs=inputs,
        outputs=[
            *(
                ProcessingOutput(output_name=name, source=f"{PROCESSING_ROOT}/baseline/{name}")
                for name in (DATASET_OUTPUT, SUMMARY_OUTPUT)
            ),
            ProcessingOutput(
                output_name=REFERENCE_OUTPUT,
                source=f"{PROCESSING_ROOT}/baseline/{REFERENCE_OUTPUT}",
                destination=baselines_uri(ctx, REFERENCE_OUTPUT),
            ),
        ],
    )
    return ProcessingStep(BASELINE_FEATURES, step_args=args, cache_config=ctx.cache, retry_policies=JOB_RETRIES)


def data_quality_step(ctx: StepContext, params: PipelineParameters, features: ProcessingStep) -> QualityCheckStep:
    dataset = features.properties.ProcessingOutputConfig.Outputs[DATASET_OUTPUT].S3Output.S3Uri
    output = baselines_uri(ctx, "data-quality")
    check_job = CheckJobConfig(
        role=ctx.role_arn,
        instance_count=1,
        instance_type=params.processing_instance_type,
        volume_kms_key=ctx.kms_key_arn,
        output_kms_key=ctx.kms_key_arn,
        max_runtime_in_seconds=3600,
        base_job_name="data-quality-baseline",
        sagemaker_session=ctx.session,
    )
    # QualityCheckStep takes no retry policies in this SDK; its job is short and cheap to rerun.
    return QualityCheckStep(
        name=DATA_QUALITY,
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset=dataset, dataset_format=DatasetFormat.csv(header=True), output_s3_uri=output
        ),
        check_job_config=check_job,
        skip_check=True,
        register_new_baseline=True,
        cache_config=ctx.cache,
    )


@dataclass(frozen=True)
class BaselineSteps:
    features: ProcessingStep
    quality: QualityCheckStep | None  # Model Monitor's baseline: the opt-in engine only

    @property
    def steps(self) -> list:
        return [self.features] if self.quality is None else [self.features, self.quality]

    def customer_metadata(self) -> dict[str, object]:
        """What Register records with the package: where its monitoring reference is."""
        outputs = self.features.properties.ProcessingOutputConfig.Outputs
        return {REFERENCE_METADATA_KEY: outputs[REFERENCE_OUTPUT].S3Output.S3Uri}

    def model_metrics(self) -> dict[str, MetricsSource]:
        """ModelMetrics keyword arguments: the baseline as the package's data-quality metrics."""
        if self.quality is None:
            return {}
        props = self.quality.properties
        return {
            "model_data_statistics": MetricsSource(s3_uri=props.CalculatedBaselineStatistics, content_type=JSON),
            "model_data_constraints": MetricsSource(s3_uri=props.CalculatedBaselineConstraints, content_type=JSON),
        }

    def drift_check_baselines(self) -> DriftCheckBaselines | None:
        """What a Model Monitor schedule for this package compares traffic with."""
        if self.quality is None:
            return None
        props = self.quality.properties
        return DriftCheckBaselines(
            model_data_statistics=MetricsSource(s3_uri=props.BaselineUsedForDriftCheckStatistics, content_type=JSON),
            model_data_constraints=MetricsSource(s3_uri=props.BaselineUsedForDriftCheckConstraints, content_type=JSON),
        )


def baseline_steps(
    ctx: StepContext, params: PipelineParameters, preprocess: ProcessingStep, train: TrainingStep
) -> BaselineSteps:
    features = baseline_features_step(ctx, params, preprocess, train)
    quality = data_quality_step(ctx, params, features) if ctx.monitoring_engine == "model_monitor" else None
    return BaselineSteps(features, quality)
