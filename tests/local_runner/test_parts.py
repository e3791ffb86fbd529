"""The local runner's parts without running a pipeline: expressions, conditions, container
paths, local S3, registry, definition checks, parameters and the base-model override."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from local_runner.cli import main
from local_runner.conditions import evaluate_conditions
from local_runner.container_paths import HOOK_DIR, PathMap
from local_runner.definition import (
    override_base_model,
    parse_assignments,
    resolve_parameters,
)
from local_runner.errors import (
    DefinitionError,
    ExpressionError,
    LocalRunnerError,
    ParameterError,
    RegistryError,
    UnsupportedStepError,
)
from local_runner.executor import ordered, validate
from local_runner.expressions import Context, PropertyFileRef, evaluate, parse_path, references
from local_runner.local_s3 import LocalS3
from local_runner.registry import LocalRegistry, flat_metrics


@pytest.fixture(scope="module")
def built():
    """The definition `run` executes, built once by infra's build_pipeline."""
    from local_runner.definition import build_local_definition

    return build_local_definition("dev")


def _ctx(**overrides) -> Context:
    evaluation = {"multiclass_classification_metrics": {"accuracy": {"value": 0.71, "standard_deviation": 0.02}}}
    preprocess = {
        "ProcessingOutputConfig": {
            "Outputs": [
                {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/p/train"}},
                {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/p/test"}},
            ]
        }
    }
    values = {
        "parameters": {"MinAccuracy": 0.6, "Epochs": 2, "Name": "x"},
        "execution": {"PipelineExecutionId": "exec-1"},
        "steps": {"Preprocess": preprocess, "Train": {"ModelArtifacts": {"S3ModelArtifacts": "s3://m/model.tar.gz"}}},
        "known_steps": {"Preprocess", "Train", "Evaluate", "Later"},
        "read_property_file": lambda ref: evaluation if ref == PropertyFileRef("Preprocess", "Report") else {},
        "read_json_uri": lambda uri: {"a": [{"b": uri}]},
    }
    values.update(overrides)
    return Context(**values)


# -- expressions -----------------------------------------------------------------------------
def test_get_reads_parameters_execution_variables_and_step_properties():
    ctx = _ctx()
    assert evaluate({"Get": "Parameters.MinAccuracy"}, ctx) == 0.6
    assert evaluate({"Get": "Execution.PipelineExecutionId"}, ctx) == "exec-1"
    get_train = {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}
    assert evaluate(get_train, ctx) == "s3://b/p/train"
    assert evaluate({"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs[1].OutputName"}, ctx) == "test"


def test_join_renders_values_and_nests_get_and_jsonget():
    ctx = _ctx()
    accuracy = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Preprocess.PropertyFiles.Report"},
            "Path": "multiclass_classification_metrics.accuracy.value",
        }
    }
    message = {"Std:Join": {"On": " ", "Values": ["accuracy", accuracy, "vs", {"Get": "Parameters.MinAccuracy"}, True]}}
    assert evaluate(message, ctx) == "accuracy 0.71 vs 0.6 true"
    uri = {
        "Std:Join": {
            "On": "/",
            "Values": ["s3:/", "bucket", {"Get": "Execution.PipelineExecutionId"}, {"Get": "Parameters.Epochs"}],
        }
    }
    assert evaluate(uri, ctx) == "s3://bucket/exec-1/2"
    # Expressions anywhere in a structure; literals untouched.
    nested = {
        "A": [{"Get": "Parameters.Name"}, 3, {"Keep": "me"}],
        "B": {"C": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}},
    }
    assert evaluate(nested, ctx) == {"A": ["x", 3, {"Keep": "me"}], "B": {"C": "s3://m/model.tar.gz"}}


def test_jsonget_reads_an_s3_uri_and_a_path_with_an_index():
    get = {"Std:JsonGet": {"S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://b", "k.json"]}}, "Path": "a[0].b"}}
    assert evaluate(get, _ctx()) == "s3://b/k.json"


@pytest.mark.parametrize(
    "expression, message",
    [
        ({"Get": "Parameters.Nope"}, "no pipeline parameter 'Nope'"),
        ({"Get": "Steps.Evaluate.ProcessingJobName"}, "step 'Evaluate' has not run"),
        ({"Get": "Steps.Ghost.X"}, "the definition has no step 'Ghost'"),
        (
            {"Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['trian'].S3Output"},
            "no item named 'trian' (have: test, train)",
        ),
        ({"Get": "Execution.Nope"}, "unknown execution variable"),
        ({"Std:Select": {}}, "unsupported function 'Std:Select'"),
        (
            {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Preprocess.PropertyFiles.Report"},
                    "Path": "multiclass_classification_metrics.acc.value",
                }
            },
            "no key 'acc'",
        ),
    ],
)
def test_expression_errors_name_what_is_missing(expression, message):
    with pytest.raises(ExpressionError) as error:
        evaluate(expression, _ctx())
    assert message in str(error.value)


def test_property_paths_parse_names_keys_and_indexes():
    assert parse_path("Outputs['train'].S3Output.S3Uri") == ["Outputs", "train", "S3Output", "S3Uri"]
    assert parse_path('FinalMetricDataList["validation:accuracy"].Value') == [
        "FinalMetricDataList",
        "validation:accuracy",
        "Value",
    ]
    assert parse_path("a[0].b") == ["a", 0, "b"]
    with pytest.raises(ExpressionError):
        parse_path("a..b")


def test_references_find_step_gets_anywhere(built):
    steps = {s["Name"]: s for s in built.definition["Steps"]}
    assert references(steps["Train"]["Arguments"]) == {"Preprocess"}
    assert references(steps["Evaluate"]["Arguments"]) == {"Preprocess", "Train"}


# -- conditions ------------------------------------------------------------------------------
def test_conditions_compare_evaluated_values_and_explain():
    accuracy = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Preprocess.PropertyFiles.Report"},
            "Path": "multiclass_classification_metrics.accuracy.value",
        }
    }
    gate = [{"Type": "GreaterThanOrEqualTo", "LeftValue": accuracy, "RightValue": {"Get": "Parameters.MinAccuracy"}}]
    assert evaluate_conditions(gate, _ctx()) == (True, "0.71 >= 0.6 is true")
    assert evaluate_conditions(gate, _ctx(parameters={"MinAccuracy": 0.9}))[0] is False
    composite = [
        {"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": 1, "RightValue": "1.0"}},
        {
            "Type": "Or",
            "Conditions": [
                {"Type": "LessThan", "LeftValue": 3, "RightValue": 2},
                {"Type": "In", "QueryValue": {"Get": "Parameters.Name"}, "Values": ["y", "x"]},
            ],
        },
    ]
    outcome, text = evaluate_conditions(composite, _ctx())
    assert outcome is False and text.startswith("not (1 == 1.0 is true)")
    with pytest.raises(ExpressionError, match="cannot compare"):
        evaluate_conditions([{"Type": "GreaterThan", "LeftValue": "abc", "RightValue": 1}], _ctx())


# -- container paths -------------------------------------------------------------------------
def test_container_paths_are_rewritten_at_path_boundaries_only(tmp_path, built):
    path_map = PathMap(tmp_path / "host")
    local = str((tmp_path / "host").resolve())
    preprocess = next(s for s in built.definition["Steps"] if s["Name"] == "Preprocess")
    command = preprocess["Arguments"]["AppSpecification"]["ContainerEntrypoint"][2]
    rewritten = path_map.rewrite(command)
    assert f"tar -xzf {local}/opt/ml/processing/input/code/*.gz -C {local}/tmp/code" in rewritten
    assert f"exec python3 {local}/tmp/code/ml_code/preprocess.py" in rewritten
    assert rewritten.count("/opt/ml") == rewritten.count(f"{local}/opt/ml") == 1
    for untouched in ("/tmpfoo/x", "/var/tmp/x", "/opt/mlx", "s3://b/opt/ml/x", "roberta-base"):
        assert path_map.rewrite(untouched) == untouched
    assert path_map.rewrite("--out=/opt/ml/model") == f"--out={local}/opt/ml/model"
    assert path_map.rewrite_all({"a": ["/tmp", 1]}) == {"a": [f"{local}/tmp", 1]}


def test_host_paths_under_tmp_are_not_container_paths(tmp_path):
    model = "/tmp/some-model-dir"
    path_map = PathMap(tmp_path / "host", host_paths=(model,))
    assert path_map.rewrite(model) == model
    assert path_map.rewrite("/tmp/other") == f"{(tmp_path / 'host').resolve()}/tmp/other"
    already_local = path_map.rewrite("/tmp/x")
    assert path_map.rewrite(already_local) == already_local


def test_a_run_folder_a_shell_would_split_is_refused(tmp_path):
    with pytest.raises(ValueError, match="characters a shell would split"):
        PathMap(tmp_path / "with space")


def test_the_hook_remaps_argparse_defaults_in_the_step_process(tmp_path):
    path_map = PathMap(tmp_path / "host", host_paths=("/tmp/keep",))
    script = tmp_path / "script.py"
    script.write_text(
        "import argparse, pathlib\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--out', type=pathlib.Path, default=pathlib.Path('/opt/ml/processing/output'))\n"
        "g = p.add_argument_group('g')\n"
        "g.add_argument('--scratch', default='/tmp/work')\n"
        "p.add_argument('--model', default='/tmp/keep/m')\n"
        "p.add_argument('--name', default='roberta-base')\n"
        "a = p.parse_args()\n"
        "print(repr(a.out), a.scratch, a.model, a.name)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(HOOK_DIR), **path_map.hook_environment()}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
    local = (tmp_path / "host").resolve()
    assert done.stdout.split() == [
        f"PosixPath('{local}/opt/ml/processing/output')",
        f"{local}/tmp/work",
        "/tmp/keep/m",
        "roberta-base",
    ]
    assert f"default of --out: /opt/ml/processing/output -> {local}/opt/ml/processing/output" in done.stderr
    # Given on the command line, a value is the caller's: not remapped.
    done = subprocess.run(
        [sys.executable, str(script), "--scratch", "/tmp/x"], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split()[1] == "/tmp/x"


# -- local S3 --------------------------------------------------------------------------------
def test_s3_uris_map_to_folders_with_sagemaker_prefix_semantics(tmp_path):
    s3 = LocalS3(tmp_path / "s3")
    assert s3.path("s3://bucket/a/b.txt") == tmp_path / "s3" / "bucket" / "a" / "b.txt"
    for key in (
        "data/train/part-1.parquet",
        "data/train/sub/part-2.parquet",
        "data/test/part-3.parquet",
        "code.tar.gz",
    ):
        s3.path(f"s3://bucket/{key}").parent.mkdir(parents=True, exist_ok=True)
        s3.path(f"s3://bucket/{key}").write_text(key)
    assert [r for r, _ in s3.objects("s3://bucket/data/train")] == ["part-1.parquet", "sub/part-2.parquet"]
    assert [r for r, _ in s3.objects("s3://bucket/code.tar.gz")] == ["code.tar.gz"]
    assert len(s3.objects("s3://bucket/")) == 4
    shards = [[p.name for p in s3.download("s3://bucket/data/", tmp_path / f"h{i}", (i, 2))] for i in range(2)]
    assert sorted(shards[0] + shards[1]) == ["part-1.parquet", "part-2.parquet", "part-3.parquet"] and all(shards)
    with pytest.raises(LocalRunnerError, match="no S3 objects found under s3://bucket/nothing"):
        s3.download("s3://bucket/nothing", tmp_path / "x")
    for bad in ("/local/path", "s3://", "s3://b/../escape", "https://b/k"):
        with pytest.raises(LocalRunnerError):
            s3.path(bad)


# -- registry --------------------------------------------------------------------------------
def _package(group="g", status="PendingManualApproval"):
    return {"ModelPackageGroupName": group, "ModelApprovalStatus": status, "InferenceSpecification": {"Containers": []}}


def test_registry_versions_metrics_and_approval(tmp_path):
    metrics_file = tmp_path / "evaluation.json"
    metrics_file.write_text(
        json.dumps(
            {
                "multiclass_classification_metrics": {
                    "accuracy": {"value": 0.7, "standard_deviation": 0.1},
                    "confusion_matrix": {"a": {"a": 1}},
                }
            }
        )
    )
    registry = LocalRegistry(tmp_path / "registry")
    first = registry.register(
        {**_package(), "Metrics": flat_metrics(json.loads(metrics_file.read_text()))},
        {"evaluation.json": metrics_file},
        "us-east-1",
        "000000000000",
    )
    second = registry.register(_package(), {}, "us-east-1", "000000000000")
    assert (first["ModelPackageVersion"], second["ModelPackageVersion"]) == (1, 2)
    assert first["ModelPackageArn"] == "arn:aws:sagemaker:us-east-1:000000000000:model-package/g/1"
    assert first["Metrics"] == {"accuracy": 0.7}
    stored = json.loads((tmp_path / "registry" / "g" / "versions" / "1" / "model-package.json").read_text())
    assert (
        stored["ModelApprovalStatus"] == "PendingManualApproval"
        and (tmp_path / "registry/g/versions/1/evaluation.json").is_file()
    )
    registry.set_status("g", 1, "Approved", note="looks good")
    assert registry.get("g", 1)["ModelApprovalStatus"] == "Approved"
    assert [h["Status"] for h in registry.get("g", 1)["ApprovalHistory"]] == ["PendingManualApproval", "Approved"]
    assert registry.latest("g", status="Approved")["ModelPackageVersion"] == 1
    with pytest.raises(RegistryError, match="no version 9"):
        registry.get("g", 9)
    with pytest.raises(RegistryError, match="is not one of"):
        registry.set_status("g", 1, "Maybe")
    with pytest.raises(RegistryError, match="is not one of"):
        registry.register(_package(status="Bogus"), {}, "us-east-1", "000000000000")


def test_flat_metrics_qualify_repeated_names():
    document = {
        "a": {"accuracy": {"value": 1}},
        "b": {"accuracy": {"value": 0.5}, "f1": {"value": 0.2}},
        "flag": {"value": True},
    }
    assert flat_metrics(document) == {"a.accuracy": 1.0, "b.accuracy": 0.5, "f1": 0.2}


def test_approve_command_updates_the_newest_version(tmp_path, capsys):
    registry = LocalRegistry(tmp_path / "registry")
    for _ in range(2):
        registry.register(_package(), {}, "us-east-1", "000000000000")
    assert main(["approve", "--root", str(tmp_path), "--latest"]) == 0
    assert "g version 2: PendingManualApproval -> Approved" in capsys.readouterr().out
    assert [p["ModelApprovalStatus"] for p in registry.versions("g")] == ["PendingManualApproval", "Approved"]
    assert main(["approve", "--root", str(tmp_path), "--version", "1", "--status", "Rejected", "--note", "worse"]) == 0
    assert registry.get("g", 1)["ApprovalDescription"] == "worse"
    assert main(["approve", "--root", str(tmp_path), "--version", "7"]) == 2
    assert "no version 7" in capsys.readouterr().err
    assert main(["approve", "--root", str(tmp_path / "empty"), "--latest"]) == 2
    assert "is empty" in capsys.readouterr().err


# -- the definition ----------------------------------------------------------------------------
def test_the_apps_definition_is_valid_for_the_runner_in_dependency_order(built):
    validate(built.definition)
    assert [s["Name"] for s in ordered(built.definition["Steps"])] == [
        "Preprocess",
        "Train",
        "Evaluate",
        "AccuracyGate",
    ]
    shuffled = list(reversed(built.definition["Steps"]))
    assert [s["Name"] for s in ordered(shuffled)] == ["Preprocess", "Train", "Evaluate", "AccuracyGate"]
    # After the gate, by property references alone: the monitoring reference, then Register (which records
    # its URI), then LinkRun (which reads Register's package ARN). The shipped config's evidently engine has
    # no DataQualityBaseline (QualityCheck) step.
    gate = next(s for s in built.definition["Steps"] if s["Name"] == "AccuracyGate")
    branch = list(reversed(gate["Arguments"]["IfSteps"]))
    assert [s["Name"] for s in ordered(branch)] == ["BaselineFeatures", "Register-RegisterModel", "LinkRun"]
    assert built.pipeline_name == "roberta-sentiment-dev-training" and built.base_model == "roberta-base"


def test_an_unsupported_step_type_fails_before_anything_runs(tmp_path, built, capsys):
    definition = copy.deepcopy(built.definition)
    gate = next(s for s in definition["Steps"] if s["Type"] == "Condition")
    gate["Arguments"]["ElseSteps"].append({"Name": "NotifyTeam", "Type": "Lambda", "Arguments": {}})
    with pytest.raises(UnsupportedStepError) as error:
        validate(definition)
    assert str(error.value).startswith("step 'NotifyTeam' has type 'Lambda', which the local runner does not support")
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    assert main(["run", "--root", str(tmp_path / "root"), "--definition", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        "step 'NotifyTeam' has type 'Lambda'" in err
        and "supported: Processing, Training, Condition, RegisterModel, Fail; skipped locally: QualityCheck)" in err
    )
    assert not list((tmp_path / "root" / "registry").glob("*"))


def test_cycles_and_references_to_missing_steps_are_definition_errors():
    a = {"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.B.X"}}}
    b = {"Name": "B", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Steps.A.X"}}}
    with pytest.raises(DefinitionError, match="cycle"):
        validate({"Steps": [a, b]})
    with pytest.raises(DefinitionError, match="refers to steps the definition does not have: Ghost"):
        validate({"Steps": [{"Name": "A", "Type": "Fail", "DependsOn": ["Ghost"]}]})


def test_parameters_take_typed_overrides_and_reject_unknown_names(built):
    values, overridden = resolve_parameters(built.definition, parse_assignments(["MinAccuracy=0.9", "Epochs=3"]))
    assert values["MinAccuracy"] == 0.9 and values["Epochs"] == 3 and overridden == {"MinAccuracy", "Epochs"}
    assert values["ModelApprovalStatus"] == "PendingManualApproval"
    with pytest.raises(ParameterError, match="no pipeline parameter MinAcc "):
        resolve_parameters(built.definition, {"MinAcc": "1"})
    with pytest.raises(ParameterError, match="Epochs is Integer: 'two'"):
        resolve_parameters(built.definition, {"Epochs": "two"})
    with pytest.raises(ParameterError, match="NAME=VALUE"):
        parse_assignments(["MinAccuracy"])


def test_base_model_override_rewrites_exactly_the_steps_model_arguments(built):
    definition = copy.deepcopy(built.definition)
    changes = override_base_model(definition, "roberta-base", "/models/tiny")
    assert changes == [
        "Preprocess: ContainerArguments[1] roberta-base -> /models/tiny",
        "Train: HyperParameters.model_name_or_path roberta-base -> /models/tiny",
    ]
    steps = {s["Name"]: s["Arguments"] for s in definition["Steps"]}
    assert steps["Preprocess"]["AppSpecification"]["ContainerArguments"][:2] == ["--tokenizer", "/models/tiny"]
    assert steps["Train"]["HyperParameters"]["model_name_or_path"] == '"/models/tiny"'
    assert "roberta-base" not in json.dumps(definition)
    with pytest.raises(DefinitionError, match="never passes 'roberta-large'"):
        override_base_model(copy.deepcopy(built.definition), "roberta-large", "/models/tiny")


# -- the training contract -------------------------------------------------------------------
def test_hyperparameters_reach_the_script_as_the_training_toolkit_passes_them(built):
    from local_runner.executor import all_steps
    from local_runner.training import decode_hyperparameters, to_cmd_args

    train = next(s for s in all_steps(built.definition["Steps"]) if s["Name"] == "Train")
    values, _ = resolve_parameters(built.definition, {"LearningRate": "0.002"})
    raw = evaluate(train["Arguments"]["HyperParameters"], _ctx(parameters=values))
    decoded = decode_hyperparameters(raw)
    assert decoded["sagemaker_program"] == "ml_code/train.py" and decoded["sagemaker_torch_distributed_enabled"] is True
    user = {k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}
    assert to_cmd_args(user) == [
        "--epochs",
        "1",
        "--learning_rate",
        "0.002",
        "--max_seq_length",
        "128",
        "--model_name_or_path",
        "roberta-base",
        "--per_device_train_batch_size",
        "32",
    ]
    assert to_cmd_args({"flag": True, "cfg": {"a": 1}, "text": "not json"}) == [
        "--cfg",
        '{"a": 1}',
        "--flag",
        "True",
        "--text",
        "not json",
    ]


def test_metric_definitions_scrape_the_training_log(tmp_path, built):
    from local_runner.metrics import final_metric_data, scrape

    train = next(s for s in built.definition["Steps"] if s["Name"] == "Train")
    definitions = train["Arguments"]["AlgorithmSpecification"]["MetricDefinitions"]
    log = tmp_path / "algo-1.log"
    log.write_text(
        "INFO ml_code.train: [metrics] step=50 epoch=0.9 train_loss=1.0995 train_accuracy=0.35"
        " learning_rate=0.0016 grad_norm=0.35\n"
        "INFO ml_code.train: [metrics] step=57 epoch=1 validation_loss=1.097 validation_accuracy=0.376\n"
        "INFO ml_code.train: [metrics] step=114 epoch=2 validation_loss=nan validation_accuracy=0.49\n"
    )
    series = scrape(log, definitions)
    assert series["validation:accuracy"] == [0.376, 0.49] and series["validation:loss"] == [1.097]
    assert series["train:loss"] == [1.0995]
    final = {m["MetricName"]: m["Value"] for m in final_metric_data(series, 0.0)}
    assert final["validation:accuracy"] == 0.49 and final["train:learning_rate"] == 0.0016


def test_serving_takes_the_newest_approved_version_and_refuses_unapproved_ones(tmp_path, capsys):
    from local_runner.serving import pick_version

    registry = LocalRegistry(tmp_path / "registry")
    for _ in range(3):
        registry.register(_package(), {}, "us-east-1", "000000000000")
    with pytest.raises(RegistryError, match="has no Approved version; approve one first"):
        pick_version(registry, None, None, allow_unapproved=False)
    assert pick_version(registry, None, None, allow_unapproved=True)["ModelPackageVersion"] == 3
    registry.set_status("g", 2, "Approved")
    assert pick_version(registry, None, None, allow_unapproved=False)["ModelPackageVersion"] == 2
    with pytest.raises(RegistryError, match="version 3 of 'g' is PendingManualApproval, not Approved"):
        pick_version(registry, "g", 3, allow_unapproved=False)
    assert main(["serve", "--root", str(tmp_path), "--version", "1", "--review", "nice"]) == 2
    assert "version 1 of 'g' is PendingManualApproval" in capsys.readouterr().err
