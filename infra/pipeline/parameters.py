"""The SageMaker Pipeline's run-time parameters, with defaults from the environment's config.

Anyone starting an execution (console, EventBridge rule, local runner) may override them;
the names are part of the pipeline's interface, so they are defined once here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString

from infra.config import EnvironmentConfig
from infra.pipeline.tracking import tracking_uri_parameter

INPUT_DATA_URI = "InputDataUri"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"


@dataclass(frozen=True)
class PipelineParameters:
    input_data_uri: ParameterString
    processing_instance_type: ParameterString
    processing_instance_count: ParameterInteger
    training_instance_type: ParameterString
    training_instance_count: ParameterInteger
    epochs: ParameterInteger
    learning_rate: ParameterFloat
    batch_size: ParameterInteger
    max_seq_length: ParameterInteger
    min_accuracy: ParameterFloat
    max_facet_accuracy_gap: ParameterFloat
    model_approval_status: ParameterString
    tracking_uri: ParameterString  # the MLflow App ARN, "none": not tracked

    def all(self) -> list:
        return list(vars(self).values())


def pipeline_parameters(
    config: EnvironmentConfig, default_input_uri: str, tracking_uri: str = ""
) -> PipelineParameters:
    training = config.training
    return PipelineParameters(
        input_data_uri=ParameterString(INPUT_DATA_URI, default_value=default_input_uri),
        processing_instance_type=ParameterString("ProcessingInstanceType", config.processing.instance_type),
        processing_instance_count=ParameterInteger("ProcessingInstanceCount", config.processing.instance_count),
        training_instance_type=ParameterString("TrainingInstanceType", training.instance_type),
        training_instance_count=ParameterInteger("TrainingInstanceCount", training.instance_count),
        epochs=ParameterInteger("Epochs", config.pipeline.epochs),
        learning_rate=ParameterFloat("LearningRate", config.pipeline.learning_rate),
        batch_size=ParameterInteger("BatchSize", config.pipeline.batch_size),
        max_seq_length=ParameterInteger("MaxSeqLength", config.pipeline.max_seq_length),
        min_accuracy=ParameterFloat("MinAccuracy", config.pipeline.min_accuracy),
        # 1.0 (the shipped default) lets any gap pass: the bias check is opt-in.
        max_facet_accuracy_gap=ParameterFloat("MaxFacetAccuracyGap", config.pipeline.max_facet_accuracy_gap),
        # Registered versions wait for a human (or the promotion pipeline) to approve them.
        model_approval_status=ParameterString(MODEL_APPROVAL_STATUS, "PendingManualApproval"),
        tracking_uri=tracking_uri_parameter(tracking_uri),
    )
