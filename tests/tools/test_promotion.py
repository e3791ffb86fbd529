"""The promotion helper with SSM and SageMaker stubbed; its context arguments as the app reads them."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime

import pytest

from tests.conftest import ROOT
from tools.promotion import main

CDK_JSON = ["--cdk-json", str(ROOT / "cdk.json")]
DEV_PARAMETER = "/roberta-sentiment/dev/serving/model-package-arn"
PROD_PARAMETER = "/roberta-sentiment/prod/serving/model-package-arn"
GROUP = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment"
V3, V2 = f"{GROUP}/3", f"{GROUP}/2"


def served(aws, parameter: str, value: str | None) -> None:
    ssm = aws.stub("ssm")
    if value is None:
        ssm.add_client_error("get_parameter", "ParameterNotFound", expected_params={"Name": parameter})
    else:
        ssm.add_response(
            "get_parameter", {"Parameter": {"Name": parameter, "Value": value, "Type": "String"}}, {"Name": parameter}
        )


def approval(aws, status: str, arn: str = V3) -> None:
    aws.stub("sagemaker").add_response(
        "describe_model_package",
        {
            "ModelPackageName": "roberta-sentiment-dev-sentiment",
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
            "CreationTime": datetime(2026, 11, 1, tzinfo=UTC),
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
        },
        {"ModelPackageName": arn},
    )


def test_current_prints_the_served_arn(aws, capsys):
    served(aws, DEV_PARAMETER, V3)
    assert main([*CDK_JSON, "current", "--env", "dev"], clients=aws) == 0
    assert capsys.readouterr().out == V3 + "\n"


@pytest.mark.parametrize("value", [None, "none"])
def test_current_fails_when_nothing_is_served(aws, capsys, value):
    served(aws, DEV_PARAMETER, value)
    assert main([*CDK_JSON, "current", "--env", "dev"], clients=aws) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "dev serves no model" in captured.err


def test_context_carries_dev_s_approved_package_to_staging_and_prod(aws, capsys):
    served(aws, DEV_PARAMETER, V3)
    approval(aws, "Approved")
    assert main([*CDK_JSON, "context", "--from", "dev"], clients=aws) == 0
    out = capsys.readouterr().out
    assert (
        out
        == f"-c mlops.model_package_arn.dev={V3} -c mlops.model_package_arn.staging={V3} -c mlops.model_package_arn.prod={V3}\n"
    )


def test_the_app_reads_the_context_arguments_as_the_packages_to_serve(aws, capsys):
    import aws_cdk as cdk

    from infra.app_builder import model_package_overrides

    capsys.readouterr()  # importing the SageMaker SDK logs its config lookup to stdout
    served(aws, DEV_PARAMETER, V3)
    approval(aws, "Approved")
    main([*CDK_JSON, "context", "--from", "dev"], clients=aws)
    words = shlex.split(capsys.readouterr().out)
    assert words[::2] == ["-c", "-c", "-c"]
    app = cdk.App(context=dict(word.split("=", 1) for word in words[1::2]))
    assert model_package_overrides(app) == {"dev": V3, "staging": V3, "prod": V3}


def test_context_from_staging_promotes_to_prod_only(aws, capsys):
    served(aws, "/roberta-sentiment/staging/serving/model-package-arn", V3)
    approval(aws, "Approved")
    assert main([*CDK_JSON, "context", "--from", "staging"], clients=aws) == 0
    assert capsys.readouterr().out == f"-c mlops.model_package_arn.staging={V3} -c mlops.model_package_arn.prod={V3}\n"


def test_context_prints_nothing_and_succeeds_before_any_model_exists(aws, capsys):
    served(aws, DEV_PARAMETER, None)
    assert main([*CDK_JSON, "context", "--from", "dev"], clients=aws) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "note: dev serves no model yet: dev, staging, prod keep cdk.json's model_package_arn" in captured.err


def test_context_require_fails_before_any_model_exists(aws, capsys):
    served(aws, DEV_PARAMETER, None)
    assert main([*CDK_JSON, "context", "--from", "dev", "--require"], clients=aws) == 1
    assert capsys.readouterr().out == ""


def test_a_package_rejected_since_deployment_is_never_promoted(aws, capsys):
    served(aws, DEV_PARAMETER, V3)
    approval(aws, "Rejected")
    assert main([*CDK_JSON, "context", "--from", "dev"], clients=aws) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and f"{V3} is Rejected in the model registry, not Approved" in captured.err


def test_a_value_the_app_would_refuse_is_not_printed(aws, capsys):
    odd = "arn:aws:sagemaker:us-east-1:111111111111:model-package/not-versioned"
    served(aws, DEV_PARAMETER, odd)
    assert main([*CDK_JSON, "context", "--from", "dev"], clients=aws) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "cannot be promoted" in captured.err and "model_package_arn" in captured.err


def test_access_denied_fails_the_synth_step_instead_of_deploying_without_a_model(aws, capsys):
    aws.stub("ssm").add_client_error("get_parameter", "AccessDeniedException", "not authorized")
    assert main([*CDK_JSON, "context", "--from", "dev"], clients=aws) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "AWS error: GetParameter: AccessDeniedException: not authorized" in captured.err


def test_nothing_comes_after_prod(capsys):
    assert main([*CDK_JSON, "context", "--from", "prod", "--region", "us-east-1"], clients=lambda _: None) == 2
    assert "prod is the last environment" in capsys.readouterr().err


def history_page(*values: str) -> dict:
    return {
        "Parameters": [
            {
                "Name": PROD_PARAMETER,
                "Version": n,
                "Value": v,
                "Type": "String",
                "LastModifiedDate": datetime(2026, 11, n, 9, 30, tzinfo=UTC),
                "LastModifiedUser": "arn:aws:sts::333333333333:assumed-role/cfn-exec/x",
            }
            for n, v in enumerate(values, start=1)
        ]
    }


def test_history_lists_versions_newest_first(aws, capsys):
    aws.stub("ssm").add_response("get_parameter_history", history_page("none", V2, V3), {"Name": PROD_PARAMETER})
    assert main([*CDK_JSON, "history", "--env", "prod"], clients=aws) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("current v3") and lines[0].endswith(V3) and "2026-11-03 09:30:00" in lines[0]
    assert lines[1].strip().startswith("v2") and lines[1].endswith(V2)
    assert lines[2].endswith("none")


def test_history_previous_prints_the_arn_to_roll_back_to(aws, capsys):
    aws.stub("ssm").add_response("get_parameter_history", history_page(V2, V3, V3), {"Name": PROD_PARAMETER})
    assert main([*CDK_JSON, "history", "--env", "prod", "--previous"], clients=aws) == 0
    assert capsys.readouterr().out == V2 + "\n"


def test_history_previous_fails_when_there_is_nothing_to_roll_back_to(aws, capsys):
    aws.stub("ssm").add_response("get_parameter_history", history_page("none", V3), {"Name": PROD_PARAMETER})
    assert main([*CDK_JSON, "history", "--env", "prod", "--previous"], clients=aws) == 1
    assert "prod has served no other model before" in capsys.readouterr().err


def test_history_of_an_environment_that_never_served(aws, capsys):
    aws.stub("ssm").add_client_error("get_parameter_history", "ParameterNotFound")
    assert main([*CDK_JSON, "history", "--env", "prod"], clients=aws) == 1
    assert "prod has never served a model" in capsys.readouterr().err


def test_unknown_environment_and_missing_cdk_json_are_usage_errors(tmp_path, capsys):
    assert main([*CDK_JSON, "current", "--env", "qa"], clients=lambda _: None) == 2
    assert "no environment 'qa'" in capsys.readouterr().err
    assert main(["--cdk-json", str(tmp_path / "cdk.json"), "current", "--env", "dev"], clients=lambda _: None) == 2
    assert "cdk.json not found" in capsys.readouterr().err
