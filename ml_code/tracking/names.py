"""Names shared by the jobs that log, the pipeline definition and the lineage tool."""

# Environment variables every tracked job gets (infra/pipeline sets them on each step).
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
EXECUTION_ID_ENV = "PIPELINE_EXECUTION_ID"
STEP_NAME_ENV = "PIPELINE_STEP_NAME"
CODE_VERSION_ENV = "ML_CODE_VERSION"

# Run tags.
EXECUTION_ID_TAG = "pipeline.execution_id"
STEP_TAG = "pipeline.step"
PIPELINE_TAG = "pipeline.name"
CODE_VERSION_TAG = "code.version"
HOST_TAG = "host"
MODEL_PACKAGE_TAG = "model_package_arn"  # set by LinkRun once the version is registered
MODEL_ARTIFACT_TAG = "model.artifact_uri"  # set by LinkRun: the model.tar.gz registered
HEALTH_TAG = "training.health"  # "ok" or the training-health findings' names
TRAINING_RUN_TAG = "training_run_id"  # on the evaluation run: the training run it scored

# Written by Train into the model folder (so into model.tar.gz), read by Evaluate.
RUN_FILE = "tracking.json"
# evaluation.json: {"tracking": {"training_run_id": ..., "evaluation_run_id": ...}}; Register
# records the training run id with the model package and LinkRun tags both runs.
TRACKING_KEY = "tracking"
TRAINING_RUN_KEY = "training_run_id"
EVALUATION_RUN_KEY = "evaluation_run_id"

# The model package's CustomerMetadataProperties (Register writes them, tools/lineage reads them).
RUN_ID_METADATA = "MlflowRunId"  # the training run
TRACKING_URI_METADATA = "MlflowTrackingUri"  # where that run lives
