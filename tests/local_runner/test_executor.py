"""The executor on small hand-written definitions whose steps are shell commands: dependency
order, container paths, outputs flowing by property reference, property files, the
condition, the Fail message, a failing job's ExitMessage, several instances. Seconds each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local_runner.cli import main

WORK = {"Std:Join": {"On": "/", "Values": ["s3://local-work", {"Get": "Execution.PipelineExecutionId"}]}}


def _processing(name: str, command: str, inputs: list, outputs: list, arguments: list | None = None, **extra) -> dict:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": {"Get": "Parameters.Instances"},
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 1,
                }
            },
            "AppSpecification": {
                "ImageUri": "example/image",
                "ContainerEntrypoint": ["/bin/bash", "-c", command, "--"],
                "ContainerArguments": arguments or [],
            },
            "ProcessingInputs": [
                {
                    "InputName": n,
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": path,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": dist,
                    },
                }
                for n, uri, path, dist in inputs
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": n,
                        "S3Output": {
                            "S3Uri": {"Std:Join": {"On": "/", "Values": [WORK, name, n]}},
                            "LocalPath": path,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for n, path in outputs
                ]
            },
        },
        **extra,
    }


def _definition() -> dict:
    # Listed consumer-first: the executor must order by references, not by position.
    gate = {
        "Name": "Gate",
        "Type": "Condition",
        "DependsOn": ["Consume"],
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThanOrEqualTo",
                    "LeftValue": {
                        "Std:JsonGet": {
                            "PropertyFile": {"Get": "Steps.Produce.PropertyFiles.Metrics"},
                            "Path": "m.score.value",
                        }
                    },
                    "RightValue": {"Get": "Parameters.Threshold"},
                }
            ],
            "IfSteps": [],
            "ElseSteps": [
                {
                    "Name": "TooLow",
                    "Type": "Fail",
                    "Arguments": {
                        "ErrorMessage": {
                            "Std:Join": {
                                "On": " ",
                                "Values": [
                                    "score",
                                    {
                                        "Std:JsonGet": {
                                            "PropertyFile": {"Get": "Steps.Produce.PropertyFiles.Metrics"},
                                            "Path": "m.score.value",
                                        }
                                    },
                                    "is below",
                                    {"Get": "Parameters.Threshold"},
                                ],
                            }
                        }
                    },
                }
            ],
        },
    }
    consume = _processing(
        "Consume",
        # The producer's output arrives as this step's input; the script's message becomes the ExitMessage.
        "test -f /opt/ml/processing/in/metrics.json"
        ' || { echo "no metrics.json in input" > /opt/ml/output/message; exit 3; }; '
        'if [ "$1" = "fail" ]; then echo "asked to fail" > /opt/ml/output/message; exit 4; fi; '
        "cp /opt/ml/processing/in/metrics.json /opt/ml/processing/copy/",
        inputs=[
            (
                "in",
                {"Get": "Steps.Produce.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"},
                "/opt/ml/processing/in",
                "FullyReplicated",
            )
        ],
        outputs=[("copy", "/opt/ml/processing/copy")],
        arguments=[{"Get": "Parameters.Mode"}],
    )
    produce = _processing(
        "Produce",
        'host=$(python3 -c "import json;'
        " print(json.load(open('/opt/ml/config/resourceconfig.json'))['current_host'])\"); "
        "ls /opt/ml/processing/in > /opt/ml/processing/out/inputs-$host.txt; "
        'echo "{\\"m\\": {\\"score\\": {\\"value\\": $1}}}" > /opt/ml/processing/out/metrics.json; '
        "pwd > /opt/ml/processing/out/cwd-$host.txt; echo $TMPDIR > /opt/ml/processing/out/tmp-$host.txt",
        inputs=[
            (
                "data",
                {
                    "Std:Join": {
                        "On": "",
                        "Values": [{"Get": "Parameters.InputDataUri"}, {"Get": "Parameters.Subfolder"}],
                    }
                },
                "/opt/ml/processing/in",
                "ShardedByS3Key",
            )
        ],
        outputs=[("out", "/opt/ml/processing/out")],
        arguments=[{"Get": "Parameters.Score"}],
        PropertyFiles=[{"PropertyFileName": "Metrics", "OutputName": "out", "FilePath": "metrics.json"}],
    )
    parameters = [
        {"Name": "InputDataUri", "Type": "String", "DefaultValue": "s3://local-raw/in/"},
        {"Name": "Instances", "Type": "Integer", "DefaultValue": 1},
        {"Name": "Score", "Type": "String", "DefaultValue": "0.75"},
        {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.5},
        {"Name": "Mode", "Type": "String", "DefaultValue": "ok"},
        {"Name": "Subfolder", "Type": "String", "DefaultValue": ""},
    ]
    return {"Version": "2020-12-01", "Parameters": parameters, "Steps": [gate, consume, produce]}


@pytest.fixture
def run(tmp_path, capsys):
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(_definition()))
    inputs = []
    for name in ("a.csv", "b.csv", "c.csv"):
        (tmp_path / name).write_text("x\n")
        inputs += ["--input", str(tmp_path / name)]

    def _run(*params: str) -> tuple[int, dict, Path, str, str]:
        argv = ["run", "--root", str(tmp_path / "root"), "--definition", str(path), *inputs]
        for param in params:
            argv += ["--param", param]
        code = main(argv)
        (run_dir,) = sorted((tmp_path / "root" / "runs").iterdir())[-1:]
        captured = capsys.readouterr()
        return code, json.loads((run_dir / "run.json").read_text()), run_dir, captured.out, captured.err

    return _run


def test_steps_run_in_dependency_order_with_outputs_flowing_and_the_gate_passing(run):
    code, summary, run_dir, out, _ = run()
    assert code == 0, out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("==> ")] == ["Produce", "Consume", "Gate"]
    steps = {s["name"]: s for s in summary["steps"]}
    assert (
        steps["Gate"]["detail"] == "0.75 >= 0.5 is true -> IfSteps (none)"
        and steps["TooLow"]["status"] == "NotExecuted"
    )
    work = run_dir / "s3" / "local-work" / summary["execution_id"]
    assert json.loads((work / "Consume" / "copy" / "metrics.json").read_text()) == {"m": {"score": {"value": 0.75}}}
    assert (work / "Produce" / "out" / "inputs-algo-1.txt").read_text().split() == ["a.csv", "b.csv", "c.csv"]
    # The container's / and /tmp are folders of the host inside the run folder.
    host = run_dir / "steps" / "Produce" / "algo-1"
    assert (work / "Produce" / "out" / "cwd-algo-1.txt").read_text().strip() == str(host)
    assert (work / "Produce" / "out" / "tmp-algo-1.txt").read_text().strip() == str(host / "tmp")
    assert json.loads((host / "opt/ml/config/resourceconfig.json").read_text()) == {
        "current_host": "algo-1",
        "hosts": ["algo-1"],
    }
    arguments = json.loads((run_dir / "steps" / "Consume" / "arguments.json").read_text())
    assert (
        arguments["ProcessingInputs"][0]["S3Input"]["S3Uri"] == f"s3://local-work/{summary['execution_id']}/Produce/out"
    )


def test_the_fail_step_fails_the_run_with_its_evaluated_message(run):
    code, summary, _, _, err = run("Score=0.25", "Threshold=0.3e1")
    assert code == 1
    assert err.strip().splitlines()[-1] == "pipeline execution failed: score 0.25 is below 3.0"
    steps = {s["name"]: s["status"] for s in summary["steps"]}
    assert steps == {"Gate": "Succeeded", "TooLow": "Failed", "Consume": "Succeeded", "Produce": "Succeeded"}


def test_a_failing_job_fails_with_its_exit_message_and_later_steps_do_not_run(run):
    code, summary, _, _, err = run("Mode=fail")
    assert code == 1
    assert "step Consume failed: AlgorithmError: asked to fail (exit code 4 on algo-1)" in err
    steps = {s["name"]: s["status"] for s in summary["steps"]}
    assert steps == {"Gate": "NotExecuted", "TooLow": "NotExecuted", "Consume": "Failed", "Produce": "Succeeded"}


def test_several_instances_share_sharded_input_and_merge_their_outputs(run):
    code, summary, run_dir, out, _ = run("Instances=2")
    assert code == 0, out
    produced = run_dir / "s3" / "local-work" / summary["execution_id"] / "Produce" / "out"
    seen = {host: (produced / f"inputs-{host}.txt").read_text().split() for host in ("algo-1", "algo-2")}
    assert seen == {"algo-1": ["a.csv", "c.csv"], "algo-2": ["b.csv"]}


def test_a_missing_input_is_the_steps_clienterror(run):
    code, _, _, _, err = run("Subfolder=nothing-here/")
    assert code == 1
    assert (
        "step Produce failed: ClientError: input 'data': no S3 objects found under s3://local-raw/in/nothing-here/"
        in err
    )


# -- steps that cannot run here ----------------------------------------------------------------
def _metrics_source(uri) -> dict:
    return {"ContentType": "application/json", "S3Uri": uri}


def _skip_definition(reader: dict) -> dict:
    """Produce -> Check (QualityCheck, needs the Model Monitor analyzer) -> ``reader`` of Check's properties."""
    produce = _processing(
        "Produce",
        'echo "{\\"m\\": {\\"score\\": {\\"value\\": 0.9}}}" > /opt/ml/processing/out/metrics.json; '
        "echo model > /opt/ml/processing/out/model.tar.gz; echo a,b > /opt/ml/processing/out/baseline.csv",
        inputs=[],
        outputs=[("out", "/opt/ml/processing/out")],
    )
    out = {"Get": "Steps.Produce.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}
    dataset = {"S3Uri": out, "LocalPath": "/opt/ml/processing/input/baseline_dataset_input"}
    check = {
        "Name": "Check",
        "Type": "QualityCheck",
        "Arguments": {
            "AppSpecification": {"ImageUri": "example/model-monitor-analyzer"},
            "ProcessingInputs": [{"InputName": "baseline_dataset_input", "S3Input": dataset}],
        },
        "CheckType": "DATA_QUALITY",
        "SkipCheck": True,
        "RegisterNewBaseline": True,
    }
    parameters = [
        {"Name": "InputDataUri", "Type": "String", "DefaultValue": "s3://local-raw/in/"},
        {"Name": "Instances", "Type": "Integer", "DefaultValue": 1},
    ]
    return {"Version": "2020-12-01", "Parameters": parameters, "Steps": [reader, check, produce]}


def _run_definition(tmp_path: Path, definition: dict, capsys) -> tuple[int, dict, Path, str, str]:
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    (tmp_path / "a.csv").write_text("x\n")
    root, data = tmp_path / "root", tmp_path / "a.csv"
    code = main(["run", "--root", str(root), "--definition", str(path), "--input", str(data)])
    (run_dir,) = (tmp_path / "root" / "runs").iterdir()
    captured = capsys.readouterr()
    return code, json.loads((run_dir / "run.json").read_text()), run_dir, captured.out, captured.err


def test_a_quality_check_is_reported_as_not_run_and_register_registers_without_its_baseline(tmp_path, capsys):
    out = {"Get": "Steps.Produce.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}

    def file(name: str) -> dict:
        return {"Std:Join": {"On": "/", "Values": [out, name]}}

    model = {"Image": "example/image", "ModelDataUrl": file("model.tar.gz")}
    baseline = _metrics_source({"Get": "Steps.Check.CalculatedBaselineStatistics"})
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": "group",
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {"Containers": [model]},
            "ModelMetrics": {
                "ModelQuality": {"Statistics": _metrics_source(file("metrics.json"))},
                "ModelDataQuality": {"Statistics": baseline},
            },
            "DriftCheckBaselines": {
                "ModelDataQuality": {
                    "Constraints": _metrics_source({"Get": "Steps.Check.BaselineUsedForDriftCheckConstraints"})
                }
            },
        },
    }
    code, summary, run_dir, stdout, _ = _run_definition(tmp_path, _skip_definition(register), capsys)
    assert code == 0, stdout
    steps = {s["name"]: s for s in summary["steps"]}
    statuses = {n: s["status"] for n, s in steps.items()}
    assert statuses == {"Register": "Succeeded", "Check": "Skipped", "Produce": "Succeeded"}
    reason = "skipped locally: needs the SageMaker Model Monitor analyzer container"
    assert steps["Check"]["detail"] == reason
    assert f"<== Check NOT RUN, {reason} (inputs ready: baseline_dataset_input: 3 object(s))" in stdout
    assert "<== Check Succeeded" not in stdout
    package = summary["registered"][0]
    assert package["Local"]["NotRegisteredLocally"] == [
        "ModelMetrics.ModelDataQuality.Statistics",
        "DriftCheckBaselines.ModelDataQuality.Constraints",
    ]
    assert package["Metrics"] == {"score": 0.9}  # the documents that exist are still registered
    report = (run_dir / "report.md").read_text()
    assert f"**Check (QualityCheck) did not run:** {reason}." in report
    assert "| Check | QualityCheck | Skipped |" in report
    assert "Register: registered without ModelMetrics.ModelDataQuality.Statistics" in report


def test_a_job_that_reads_a_skipped_steps_properties_fails_naming_it(tmp_path, capsys):
    reader = _processing(
        "UseBaseline",
        "true",
        inputs=[
            (
                "stats",
                {"Get": "Steps.Check.CalculatedBaselineStatistics"},
                "/opt/ml/processing/stats",
                "FullyReplicated",
            )
        ],
        outputs=[],
    )
    code, summary, _, _, err = _run_definition(tmp_path, _skip_definition(reader), capsys)
    assert code == 1
    assert (
        "step UseBaseline failed: reads properties of Check, which did not run locally"
        " (skipped locally: needs the SageMaker Model Monitor analyzer container)" in err
    )
    assert {s["name"]: s["status"] for s in summary["steps"]}["UseBaseline"] == "Failed"


def test_a_skipped_step_still_needs_its_inputs_as_the_job_would(tmp_path, capsys):
    definition = _skip_definition(_processing("Later", "true", inputs=[], outputs=[]))
    check = next(s for s in definition["Steps"] if s["Name"] == "Check")
    check["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://local-work/nothing-here/"
    check["DependsOn"] = ["Produce"]
    code, summary, _, _, err = _run_definition(tmp_path, definition, capsys)
    assert code == 1
    assert (
        "step Check failed: ClientError: input 'baseline_dataset_input': no S3 objects found under"
        " s3://local-work/nothing-here/" in err
    )
    assert {s["name"]: s["status"] for s in summary["steps"]}["Check"] == "Failed"
