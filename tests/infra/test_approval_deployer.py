"""Dev's approval-driven deployment: rules, function settings and a role scoped to one endpoint."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

from infra.constructs.approval_deployer import ENDPOINT_STATE_CHANGE
from infra.constructs.pipeline_triggers import MODEL_PACKAGE_STATE_CHANGE


def _lambda_rules(template) -> dict[str, dict]:
    rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    return {r["EventPattern"]["detail-type"][0]: r for r in rules if "detail-type" in r.get("EventPattern", {})}


def test_approved_packages_of_this_group_and_endpoint_changes_reach_the_deployer(templates):
    rules = _lambda_rules(templates["dev", "serving"])
    approved = rules[MODEL_PACKAGE_STATE_CHANGE]["EventPattern"]
    assert approved["source"] == ["aws.sagemaker"]
    assert approved["detail"] == {
        "ModelPackageGroupName": ["roberta-sentiment-dev-sentiment"],
        "ModelApprovalStatus": ["Approved"],
    }
    # Endpoint events spell statuses IN_SERVICE, not InService: filter on the name only.
    assert rules[ENDPOINT_STATE_CHANGE]["EventPattern"]["detail"] == {
        "EndpointName": ["roberta-sentiment-dev-sentiment"]
    }
    for rule in rules.values():
        (target,) = rule["Targets"]
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4} and "DeadLetterConfig" in target


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_promoted_environments_deploy_only_through_the_delivery_pipeline(templates, env):
    assert not templates[env, "serving"].find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "handler.handler"}}
    )


def test_deployer_function_settings(templates):
    templates["dev", "serving"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "FunctionName": "roberta-sentiment-dev-deploy-model",  # what tools.challenger invokes
            "Environment": {
                "Variables": {
                    "MODEL_PACKAGE_GROUP_NAME": "roberta-sentiment-dev-sentiment",
                    "ENDPOINT_NAME": "roberta-sentiment-dev-sentiment",
                    "SERVED_MODEL_PARAMETER": "/roberta-sentiment/dev/serving/model-package-arn",
                    "TOPIC_ARN": Match.any_value(),
                    # cdk.json: dev approvals replace the champion (no challenger deployment)
                    "CHALLENGER_MODE": "off",
                    "CHALLENGER_TRAFFIC_PERCENT": "10",
                }
            },
            "DeadLetterConfig": Match.any_value(),
        },
    )


def test_approved_packages_may_join_as_the_challenger(cdk_context, tmp_path):
    import copy

    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from infra.app_builder import build_app
    from tests.conftest import served_context

    context = copy.deepcopy(served_context(cdk_context))
    challenger = context["mlops"]["environments"]["dev"]["serving"]["challenger"]
    challenger.update(mode="ab", traffic_percent=25, deploy_approved_as_challenger=True)
    app = cdk.App(context=context, outdir=str(tmp_path))
    Template.from_stack(build_app(app)["dev"].serving).has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({"CHALLENGER_MODE": "ab", "CHALLENGER_TRAFFIC_PERCENT": "25"})
            }
        },
    )


def test_deployer_role_touches_only_this_endpoint_and_its_clones(templates):
    statements = Capture()
    templates["dev", "serving"].has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyName": Match.string_like_regexp("DeployOnApproval"), "PolicyDocument": {"Statement": statements}},
    )
    by_action: dict[str, list[str]] = {}
    for statement in statements.as_array():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            by_action.setdefault(action, []).extend(str(r) for r in resources)
    assert all(
        ":endpoint/roberta-sentiment-dev-sentiment" in r or "-sentiment-v*" in r
        for r in by_action["sagemaker:UpdateEndpoint"]
    )
    assert all(r.endswith("roberta-sentiment-dev-sentiment-v*']]}") for r in by_action["sagemaker:CreateModel"])
    assert all(
        "model-package/roberta-sentiment-dev-sentiment/*" in r for r in by_action["sagemaker:DescribeModelPackage"]
    )
    assert "sagemaker:DeleteEndpoint" not in by_action and not any(
        a.endswith("*") for a in by_action if a.startswith("sagemaker")
    )
    assert by_action["ssm:PutParameter"] and all(
        "parameter/roberta-sentiment/dev/serving/model-package-arn" in r for r in by_action["ssm:PutParameter"]
    )
    assert all("ModelRole" in r for r in by_action["iam:PassRole"])
