"""The drift check against the real synthesized dev template, with DescribePipeline stubbed.

"Deployed" definitions are built here the way CloudFormation builds them: the template's
Fn::Join with each intrinsic replaced by a concrete value (independently of the tool's code).
"""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stdout

import pytest

from tests.conftest import ROOT
from tools.pipeline_drift import find_synthesized, main

CDK_JSON = ROOT / "cdk.json"
NAME = "roberta-sentiment-dev-training"
ACCOUNT = "111111111111"


def concrete(intrinsic: dict) -> str:
    """What CloudFormation would put in place of one intrinsic of the dev pipeline stack."""
    ((function, argument),) = intrinsic.items()
    if intrinsic == {"Ref": "AWS::Partition"}:
        return "aws"
    if function == "Ref":
        return f"dev-pipeline-{argument[:12]}-ROLE"  # a role name CloudFormation generated
    if function == "Fn::Sub":  # the training image asset's URI
        return argument.replace("${AWS::URLSuffix}", "amazonaws.com")
    if "mlflow-app-arn" in argument:
        return f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-app/app-0123456789ab"
    if "Key" in argument:
        return f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
    return "roberta-sentiment-dev-" + argument.split("DataLake")[-1][:8].lower() + "-bucket"


@pytest.fixture(scope="module")
def assembly(synthesized):
    return synthesized[1]


@pytest.fixture(scope="module")
def template_body(assembly):
    return find_synthesized(assembly, NAME)


@pytest.fixture(scope="module")
def deployed_text(template_body) -> str:
    _, body = template_body
    delimiter, parts = body["Fn::Join"]
    return delimiter.join(part if isinstance(part, str) else concrete(part) for part in parts)


@pytest.fixture
def deployed(deployed_text) -> dict:
    return json.loads(deployed_text)


def step(definition: dict, name: str) -> dict:
    return next(s for s in definition["Steps"] if s["Name"] == name)


def run_check(aws, assembly, definition: dict, *extra: str) -> tuple[int, str]:
    aws.stub("sagemaker").add_response(
        "describe_pipeline",
        {"PipelineName": NAME, "PipelineDefinition": json.dumps(definition)},
        {"PipelineName": NAME},
    )
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(assembly), *extra], clients=aws)
    return code, out.getvalue()


def test_the_template_is_found_by_the_pipeline_name_from_cdk_json(template_body):
    template_file, body = template_body
    assert template_file.name.startswith("devPipeline") and "Fn::Join" in body


def test_an_unchanged_definition_reports_no_drift(aws, assembly, deployed):
    code, out = run_check(aws, assembly, deployed, "--show-holes")
    assert code == 0, out
    assert "no drift" in out
    # The role Ref, the raw/features/models buckets, the KMS key and the MLflow App: each matched one value.
    assert "hole ${Ref TrainingExecutionRole" in out and out.count("hole ${ImportValue") == 5


def test_key_order_and_whitespace_do_not_count(aws, assembly, deployed_text):
    reordered = json.loads(deployed_text)
    reordered["Steps"].reverse()
    assert run_check(aws, assembly, reordered)[0] == 0


CHANGES = {
    "hyperparameter": (
        lambda d: step(d, "Train")["Arguments"]["HyperParameters"].update(model_name_or_path='"distilroberta-base"'),
        'Steps[Train].Arguments.HyperParameters.model_name_or_path: synthesized "\\"roberta-base\\"", '
        'deployed "\\"distilroberta-base\\""',
    ),
    "parameter default": (
        lambda d: next(p for p in d["Parameters"] if p["Name"] == "Epochs").update(DefaultValue=3),
        "Parameters[Epochs].DefaultValue: synthesized 1, deployed 3",
    ),
    "removed step": (
        lambda d: d["Steps"].remove(step(d, "Evaluate")),
        "Steps[Evaluate]: synthesized only (not deployed)",
    ),
    "added step": (
        lambda d: d["Steps"].append({"Name": "Extra", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}),
        'Steps[Extra]: deployed only (not synthesized): {"Arguments": {"ErrorMessage": "x"}, "Name": "Extra", "Type": "Fail"}',
    ),
    "image": (
        lambda d: step(d, "Train")["Arguments"]["AlgorithmSpecification"].update(TrainingImage="example.com/other:1"),
        "Steps[Train].Arguments.AlgorithmSpecification.TrainingImage: synthesized "
        '"111111111111.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-111111111111-us-east-1:',
    ),
    "one volume's key": (
        lambda d: step(d, "Train")["Arguments"]["ResourceConfig"].update(
            VolumeKmsKeyId="arn:aws:kms:us-east-1:1:key/other"
        ),
        "Steps[Train].Arguments.ResourceConfig.VolumeKmsKeyId: ${ImportValue roberta-sentiment-dev-data:ExportsOutput"
        'FnGetAttDataLakeKey6ACD72F9Arn2C6702DA} is "arn:aws:kms:us-east-1:1:key/other" here but "arn:aws:kms:us-east-1:'
        f'{ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab" at ',
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_each_change_is_reported_with_its_path(aws, assembly, deployed, change):
    mutate, expected = CHANGES[change]
    mutate(deployed)
    code, out = run_check(aws, assembly, deployed)
    assert code == 1
    assert "drift: 1 difference(s)" in out
    assert expected in out


def test_all_changes_at_once_are_each_reported(aws, assembly, deployed):
    for mutate, _ in CHANGES.values():
        mutate(deployed)
    code, out = run_check(aws, assembly, deployed)
    assert code == 1 and f"drift: {len(CHANGES)} difference(s)" in out
    for _, expected in CHANGES.values():
        assert expected in out


def test_resolve_compares_exports_and_stack_resources_exactly(aws, assembly, template_body, deployed):
    _, body = template_body
    intrinsics = [part for part in body["Fn::Join"][1] if isinstance(part, dict) and part != {"Ref": "AWS::Partition"}]
    exports = {p["Fn::ImportValue"]: concrete(p) for p in intrinsics if "Fn::ImportValue" in p}
    (role,) = {p["Ref"] for p in intrinsics if "Ref" in p}
    exports["roberta-sentiment-dev-data:ExportsOutputRefDataLakeRaw1F82835B5FD70816"] = "another-raw-bucket"
    cloudformation = aws.stub("cloudformation")
    cloudformation.add_response("list_exports", {"Exports": [{"Name": k, "Value": v} for k, v in exports.items()]}, {})
    resource = {
        "LogicalResourceId": role,
        "PhysicalResourceId": concrete({"Ref": role}),
        "ResourceType": "AWS::IAM::Role",
        "Timestamp": "2026-11-01T00:00:00Z",
        "ResourceStatus": "CREATE_COMPLETE",
    }
    cloudformation.add_response(
        "describe_stack_resources", {"StackResources": [resource]}, {"StackName": "roberta-sentiment-dev-pipeline"}
    )
    code, out = run_check(aws, assembly, deployed, "--resolve")
    assert code == 1
    # The raw bucket is now exact text: the deployed one differs from the export.
    assert (
        'Parameters[InputDataUri].DefaultValue: synthesized "s3://another-raw-bucket/womens-clothing-reviews/"' in out
    )


def test_param_values_are_compared_exactly(aws, assembly, deployed, deployed_text):
    role = "TrainingExecutionRoleC863F521"
    code, out = run_check(aws, assembly, deployed, "--param", f"{role}=the-expected-role")
    places = deployed_text.count(concrete({"Ref": role}))  # each step's RoleArn
    assert code == 1 and places >= 3 and f"drift: {places} difference(s)" in out
    assert 'RoleArn: synthesized "arn:aws:iam::111111111111:role/the-expected-role", deployed "arn:aws:iam::' in out


def test_a_pipeline_that_is_not_deployed_is_an_error(aws, assembly, capsys):
    aws.stub("sagemaker").add_client_error(
        "describe_pipeline", service_error_code="ResourceNotFound", service_message="Pipeline does not exist"
    )
    code = main(["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(assembly)], clients=aws)
    assert code == 2
    assert f"pipeline {NAME!r} is not deployed" in capsys.readouterr().err


def test_aws_errors_exit_2_with_the_operation_and_code(aws, assembly, capsys):
    aws.stub("sagemaker").add_client_error(
        "describe_pipeline", service_error_code="AccessDeniedException", service_message="no"
    )
    assert main(["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(assembly)], clients=aws) == 2
    assert "AWS error: DescribePipeline: AccessDeniedException: no" in capsys.readouterr().err


def test_a_saved_definition_can_be_compared_offline(assembly, deployed, tmp_path, capsys):
    saved = tmp_path / "deployed.json"
    saved.write_text(json.dumps(deployed))
    args = ["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(assembly), "--deployed-file", str(saved)]
    assert main(args) == 0
    assert "no drift" in capsys.readouterr().out


def test_missing_assembly_or_pipeline_are_clear_usage_errors(tmp_path, assembly, capsys):
    assert main(["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(tmp_path / "nope")]) == 2
    assert "run `make synth` first" in capsys.readouterr().err
    args = ["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(assembly), "--pipeline-name", "other"]
    assert main(args) == 2
    assert "no AWS::SageMaker::Pipeline named 'other'" in capsys.readouterr().err


def test_a_stale_assembly_with_another_body_is_refused(tmp_path, assembly, template_body, capsys):
    template_file, _ = template_body
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        template = json.loads(template_file.read_text())
        if folder == "b":
            template = copy.deepcopy(template)
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::SageMaker::Pipeline":
                    resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"] = "{}"
        (tmp_path / folder / template_file.name).write_text(json.dumps(template))
    assert main(["--env", "dev", "--cdk-json", str(CDK_JSON), "--cdk-out", str(tmp_path)]) == 2
    assert "differs between" in capsys.readouterr().err
