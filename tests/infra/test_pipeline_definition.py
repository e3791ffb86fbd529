"""The SageMaker pipeline definition synthesized into each environment's pipeline stack."""

from __future__ import annotations

import json

import pytest

from infra.pipeline.steps import ACCURACY_JSON_PATH
from ml_code.training.metric_definitions import METRIC_DEFINITIONS


@pytest.fixture(scope="module")
def definitions(stages) -> dict[str, dict]:
    return {name: json.loads(stage.pipeline.training.definition) for name, stage in stages.items()}


@pytest.fixture(scope="module")
def model_monitor_definition(cdk_context) -> dict:
    """dev's definition with the opt-in engine (``monitoring.engine: "model_monitor"``)."""
    import copy

    from infra.config import load_config
    from infra.pipeline.definition import build_pipeline
    from infra.pipeline.images import image_uris_for

    context = copy.deepcopy(cdk_context)
    context["mlops"]["environments"]["dev"]["monitoring"]["engine"] = "model_monitor"
    config = load_config(context["mlops"], path="context.mlops")["dev"]
    images = image_uris_for(config.region)
    pipeline = build_pipeline(
        config,
        name=config.pipeline_name,
        role_arn="arn:aws:iam::111111111111:role/pipeline",
        code_uri="s3://assets/code.tar.gz",
        default_input_uri="s3://raw/reviews/",
        work_bucket="features",
        models_uri="s3://models",
        kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/k",
        images={"training": images.training, "processing": images.processing, "inference": images.inference},
        feature_group_name="reviews",
        model_package_group=config.model_package_group_name,
    )
    return json.loads(pipeline.definition())


def _steps(definition: dict) -> dict[str, dict]:
    return {step["Name"]: step for step in definition["Steps"]}


def _get(ref: dict | str) -> str:
    return ref["Get"] if isinstance(ref, dict) else ref


def test_step_graph_is_preprocess_train_evaluate_gate_then_baseline_register_and_link_run(definitions):
    steps = _steps(definitions["dev"])
    assert {name: s["Type"] for name, s in steps.items()} == {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "AccuracyGate": "Condition",
    }
    gate = steps["AccuracyGate"]["Arguments"]
    # No Model Monitor step by default: AWS closed it to new customers.
    assert [(s["Name"], s["Type"]) for s in gate["IfSteps"]] == [
        ("BaselineFeatures", "Processing"),
        ("Register-RegisterModel", "RegisterModel"),
        ("LinkRun", "Processing"),
    ]
    assert [s["Type"] for s in gate["ElseSteps"]] == ["Fail"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_default_definitions_reference_no_model_monitor_or_clarify(definitions, env):
    from infra.pipeline.images import analyzer_image_uri

    text = json.dumps(definitions[env])
    assert "QualityCheck" not in text and "ClarifyCheck" not in text
    assert analyzer_image_uri("us-east-1") not in text and "model-monitor" not in text and "clarify" not in text.lower()


def test_opt_in_model_monitor_engine_adds_the_data_quality_baseline(model_monitor_definition):
    gate = _steps(model_monitor_definition)["AccuracyGate"]["Arguments"]
    assert [(s["Name"], s["Type"]) for s in gate["IfSteps"]] == [
        ("BaselineFeatures", "Processing"),
        ("DataQualityBaseline", "QualityCheck"),
        ("Register-RegisterModel", "RegisterModel"),
        ("LinkRun", "Processing"),
    ]


def test_steps_are_wired_by_property_references(definitions):
    steps = _steps(definitions["dev"])
    channels = {
        c["ChannelName"]: _get(c["DataSource"]["S3DataSource"]["S3Uri"])
        for c in steps["Train"]["Arguments"]["InputDataConfig"]
    }
    assert channels == {
        "train": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri",
        "validation": "Steps.Preprocess.ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri",
    }
    inputs = {i["InputName"]: i["S3Input"] for i in steps["Evaluate"]["Arguments"]["ProcessingInputs"]}
    assert _get(inputs["model"]["S3Uri"]) == "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    assert _get(inputs["test"]["S3Uri"]) == "Steps.Preprocess.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"
    assert inputs["model"]["LocalPath"] == "/opt/ml/processing/model"


def test_preprocess_shards_input_files_across_instances_and_writes_every_split(definitions):
    args = _steps(definitions["prod"])["Preprocess"]["Arguments"]
    data = next(i["S3Input"] for i in args["ProcessingInputs"] if i["InputName"] == "data")
    assert data["S3DataDistributionType"] == "ShardedByS3Key"
    assert _get(data["S3Uri"]) == "Parameters.InputDataUri"
    assert _get(args["ProcessingResources"]["ClusterConfig"]["InstanceCount"]) == "Parameters.ProcessingInstanceCount"
    assert [o["OutputName"] for o in args["ProcessingOutputConfig"]["Outputs"]] == [
        "train",
        "validation",
        "test",
        "report",
    ]
    entry = args["AppSpecification"]["ContainerEntrypoint"]
    assert entry[:2] == ["/bin/bash", "-c"] and "python3 /tmp/code/ml_code/preprocess.py" in entry[2]


def test_dev_passes_the_hub_model_id_to_preprocess_and_train(definitions):
    steps = _steps(definitions["dev"])
    preprocess, train = steps["Preprocess"]["Arguments"], steps["Train"]["Arguments"]
    arguments = preprocess["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--tokenizer") + 1] == "roberta-base"
    assert [i["InputName"] for i in preprocess["ProcessingInputs"]] == ["code", "data"]
    assert train["HyperParameters"]["model_name_or_path"] == '"roberta-base"'
    assert [c["ChannelName"] for c in train["InputDataConfig"]] == ["train", "validation"]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staged_base_model_reaches_preprocess_and_train_as_inputs_not_from_the_hub(definitions, env):
    account = {"staging": "222222222222", "prod": "333333333333"}[env]  # cdk.json's placeholders
    staged = f"s3://roberta-sentiment-{env}-models-{account}/base-models/roberta-base/main/"
    steps = _steps(definitions[env])
    preprocess, train = steps["Preprocess"]["Arguments"], steps["Train"]["Arguments"]

    inputs = {i["InputName"]: i["S3Input"] for i in preprocess["ProcessingInputs"]}
    tokenizer = inputs["tokenizer"]
    assert tokenizer["S3Uri"] == staged and tokenizer["LocalPath"] == "/opt/ml/processing/input/tokenizer"
    assert tokenizer["S3DataType"] == "S3Prefix" and tokenizer["S3DataDistributionType"] == "FullyReplicated"
    arguments = preprocess["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--tokenizer") + 1] == "/opt/ml/processing/input/tokenizer"

    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"] for c in train["InputDataConfig"]}
    assert channels["model"]["S3Uri"] == staged and channels["model"]["S3DataType"] == "S3Prefix"
    assert channels["model"]["S3DataDistributionType"] == "FullyReplicated"
    assert train["HyperParameters"]["model_name_or_path"] == '"/opt/ml/input/data/model"'
    assert 'roberta-base"' not in json.dumps(definitions[env])  # the hub id appears nowhere as a value


def test_gate_compares_evaluation_accuracy_with_the_min_accuracy_parameter(definitions):
    gate = _steps(definitions["dev"])["AccuracyGate"]["Arguments"]
    condition, _ = gate["Conditions"]
    assert condition["Type"] == "GreaterThanOrEqualTo"
    left = condition["LeftValue"]["Std:JsonGet"]
    assert left["Path"] == ACCURACY_JSON_PATH == "multiclass_classification_metrics.accuracy.value"
    from ml_code.training.metrics import ACCURACY_JSON_PATH as written_by_evaluate

    assert written_by_evaluate == ACCURACY_JSON_PATH
    assert left["PropertyFile"]["Get"] == "Steps.Evaluate.PropertyFiles.EvaluationReport"
    assert _get(condition["RightValue"]) == "Parameters.MinAccuracy"
    fail = gate["ElseSteps"][0]["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert "Parameters.MinAccuracy" in json.dumps(fail) and ACCURACY_JSON_PATH in json.dumps(fail)


def test_gate_compares_the_largest_facet_accuracy_gap_with_its_parameter(definitions):
    from ml_code.common.facets import MAX_ACCURACY_GAP_JSON_PATH

    gate = _steps(definitions["dev"])["AccuracyGate"]["Arguments"]
    _, condition = gate["Conditions"]
    assert condition["Type"] == "LessThanOrEqualTo"
    left = condition["LeftValue"]["Std:JsonGet"]
    assert left["Path"] == MAX_ACCURACY_GAP_JSON_PATH == "bias.max_accuracy_gap.value"
    assert left["PropertyFile"]["Get"] == "Steps.Evaluate.PropertyFiles.EvaluationReport"
    assert _get(condition["RightValue"]) == "Parameters.MaxFacetAccuracyGap"
    params = {p["Name"]: p.get("DefaultValue") for p in definitions["dev"]["Parameters"]}
    assert params["MaxFacetAccuracyGap"] == 1.0  # off unless configured
    fail = json.dumps(gate["ElseSteps"][0]["Arguments"]["ErrorMessage"])
    assert "Parameters.MaxFacetAccuracyGap" in fail and MAX_ACCURACY_GAP_JSON_PATH in fail


def test_register_uses_the_inference_image_metrics_and_approval_parameter(definitions):
    register = _if_steps(definitions["dev"])["Register-RegisterModel"]["Arguments"]
    assert _get(register["ModelApprovalStatus"]) == "Parameters.ModelApprovalStatus"
    assert register["ModelPackageGroupName"] == "roberta-sentiment-dev-sentiment"
    spec = register["InferenceSpecification"]
    assert "huggingface-pytorch-inference" in spec["Containers"][0]["Image"]
    assert _get(spec["Containers"][0]["ModelDataUrl"]) == "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    assert "ml.g5.xlarge" in spec["SupportedRealtimeInferenceInstanceTypes"]
    assert set(spec["SupportedContentTypes"]) == {"application/json", "application/jsonlines", "text/csv"}
    stats = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert stats["ContentType"] == "application/json" and "evaluation.json" in json.dumps(stats["S3Uri"])


@pytest.mark.parametrize(("env", "spot", "cache"), [("dev", True, True), ("prod", False, False)])
def test_spot_and_caching_follow_config(definitions, env, spot, cache):
    steps = _steps(definitions[env])
    train = steps["Train"]["Arguments"]
    assert train.get("EnableManagedSpotTraining", False) is spot
    assert ("MaxWaitTimeInSeconds" in train["StoppingCondition"]) is spot
    for name in ("Preprocess", "Train", "Evaluate"):
        assert steps[name]["CacheConfig"]["Enabled"] is cache


def test_training_is_distributed_encrypted_checkpointed_and_reports_metrics(definitions):
    train = _steps(definitions["dev"])["Train"]["Arguments"]
    assert train["AlgorithmSpecification"]["MetricDefinitions"] == METRIC_DEFINITIONS
    # The image: the training DLC plus the MLflow client (tests/infra/test_training_image.py).
    assert json.loads(train["HyperParameters"]["sagemaker_program"]) == "ml_code/train.py"
    assert json.loads(train["HyperParameters"]["sagemaker_torch_distributed_enabled"]) is True
    assert train["HyperParameters"]["model_name_or_path"] == '"roberta-base"'
    assert train["EnableInterContainerTrafficEncryption"] is True
    assert train["ResourceConfig"]["VolumeKmsKeyId"] and train["OutputDataConfig"]["KmsKeyId"]
    checkpoint = json.dumps(train["CheckpointConfig"]["S3Uri"])
    assert "Execution.PipelineExecutionId" in checkpoint


def test_every_job_step_retries_throttling_and_capacity_errors(definitions):
    for name, step in _steps(definitions["dev"]).items():
        if step["Type"] == "Condition":
            continue
        kinds = {kind for policy in step["RetryPolicies"] for kind in policy.get("ExceptionType", [])}
        assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= kinds, name


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("dev", {"TrainingInstanceType": "ml.g5.2xlarge", "MinAccuracy": 0.6, "Epochs": 1}),
        (
            "prod",
            {"TrainingInstanceType": "ml.g5.12xlarge", "MinAccuracy": 0.7, "Epochs": 3, "ProcessingInstanceCount": 4},
        ),
    ],
)
def test_parameters_default_to_the_environments_config(definitions, env, expected):
    params = {p["Name"]: p.get("DefaultValue") for p in definitions[env]["Parameters"]}
    assert set(params) == {
        "InputDataUri",
        "ProcessingInstanceType",
        "ProcessingInstanceCount",
        "TrainingInstanceType",
        "TrainingInstanceCount",
        "Epochs",
        "LearningRate",
        "BatchSize",
        "MaxSeqLength",
        "MinAccuracy",
        "MaxFacetAccuracyGap",
        "ModelApprovalStatus",
        "TrackingUri",
    }
    assert params["ModelApprovalStatus"] == "PendingManualApproval"
    for name, value in expected.items():
        assert params[name] == value


def _if_steps(definition: dict) -> dict[str, dict]:
    return {step["Name"]: step for step in _steps(definition)["AccuracyGate"]["Arguments"]["IfSteps"]}


def test_baseline_features_score_the_trained_model_on_the_train_split_after_the_gate(definitions):
    step = _if_steps(definitions["prod"])["BaselineFeatures"]
    args = step["Arguments"]
    inputs = {i["InputName"]: i["S3Input"] for i in args["ProcessingInputs"]}
    assert _get(inputs["model"]["S3Uri"]) == "Steps.Train.ModelArtifacts.S3ModelArtifacts"
    assert _get(inputs["train"]["S3Uri"]) == "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    assert _get(inputs["report"]["S3Uri"]) == "Steps.Preprocess.ProcessingOutputConfig.Outputs['report'].S3Output.S3Uri"
    assert "python3 /tmp/code/ml_code/baseline.py" in args["AppSpecification"]["ContainerEntrypoint"][2]
    # One instance even in prod (ProcessingInstanceCount 4): N instances would write N copies of the sample.
    assert args["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1
    outputs = {o["OutputName"]: o["S3Output"] for o in args["ProcessingOutputConfig"]["Outputs"]}
    assert {name: o["LocalPath"] for name, o in outputs.items()} == {
        name: f"/opt/ml/processing/baseline/{name}" for name in ("dataset", "summary", "reference")
    }
    # The monitoring reference goes beside the model in the models bucket, one folder per execution.
    values = outputs["reference"]["S3Uri"]["Std:Join"]["Values"]
    train = _steps(definitions["prod"])["Train"]["Arguments"]
    assert values == [
        train["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"][0],
        "baselines",
        {"Get": "Execution.PipelineExecutionId"},
        "reference",
    ]
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] and args["ProcessingOutputConfig"]["KmsKeyId"]
    assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= {
        kind for policy in step["RetryPolicies"] for kind in policy["ExceptionType"]
    }


def test_register_records_the_reference_uri_and_evaluation_beside_it(definitions):
    definition = definitions["dev"]
    register = _if_steps(definition)["Register-RegisterModel"]["Arguments"]
    assert _get(register["CustomerMetadataProperties"]["MonitoringReferenceUri"]) == (
        "Steps.BaselineFeatures.ProcessingOutputConfig.Outputs['reference'].S3Output.S3Uri"
    )
    assert "DriftCheckBaselines" not in register and "ModelDataQuality" not in register["ModelMetrics"]
    (output,) = _steps(definition)["Evaluate"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert output["S3Output"]["S3Uri"]["Std:Join"]["Values"][1:] == [
        "baselines",
        {"Get": "Execution.PipelineExecutionId"},
        "evaluation",
    ]


def test_data_quality_baseline_is_a_quality_check_of_the_features_csv_into_the_models_bucket(model_monitor_definition):
    from infra.pipeline.images import analyzer_image_uri

    definition = model_monitor_definition
    step = _if_steps(definition)["DataQualityBaseline"]
    assert (step["CheckType"], step["SkipCheck"], step["RegisterNewBaseline"]) == ("DATA_QUALITY", True, True)
    args = step["Arguments"]
    (dataset,) = args["ProcessingInputs"]
    assert (
        _get(dataset["S3Input"]["S3Uri"])
        == "Steps.BaselineFeatures.ProcessingOutputConfig.Outputs['dataset'].S3Output.S3Uri"
    )
    assert json.loads(args["Environment"]["dataset_format"])["csv"]["header"] is True
    assert args["Environment"]["dataset_source"] == dataset["S3Input"]["LocalPath"]
    assert args["AppSpecification"]["ImageUri"] == analyzer_image_uri("us-east-1")
    (output,) = args["ProcessingOutputConfig"]["Outputs"]
    values = output["S3Output"]["S3Uri"]["Std:Join"]["Values"]
    assert values[0] == "s3://models" and values[1:] == [
        "baselines",
        {"Get": "Execution.PipelineExecutionId"},
        "data-quality",
    ]
    train = _steps(definition)["Train"]["Arguments"]
    assert train["OutputDataConfig"]["S3OutputPath"]["Std:Join"]["Values"] == [values[0], "training"]  # models bucket
    assert args["RoleArn"] == train["RoleArn"]
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == train["ResourceConfig"]["VolumeKmsKeyId"]
    assert args["ProcessingOutputConfig"]["KmsKeyId"] == train["OutputDataConfig"]["KmsKeyId"]


def test_register_carries_the_quality_steps_baseline_as_metrics_and_drift_check_baselines(model_monitor_definition):
    register = _if_steps(model_monitor_definition)["Register-RegisterModel"]["Arguments"]
    for group, statistics, constraints in (
        ("ModelMetrics", "CalculatedBaselineStatistics", "CalculatedBaselineConstraints"),
        ("DriftCheckBaselines", "BaselineUsedForDriftCheckStatistics", "BaselineUsedForDriftCheckConstraints"),
    ):
        quality = register[group]["ModelDataQuality"]
        assert _get(quality["Statistics"]["S3Uri"]) == f"Steps.DataQualityBaseline.{statistics}"
        assert _get(quality["Constraints"]["S3Uri"]) == f"Steps.DataQualityBaseline.{constraints}"
        assert quality["Statistics"]["ContentType"] == quality["Constraints"]["ContentType"] == "application/json"
