"""Challenger variants per mode: shadow and A/B endpoint configs, their alarms, the comparison job."""

from __future__ import annotations

import copy
import json

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from infra.app_builder import build_app
from tests.conftest import SERVED_PACKAGE, served_context

CHALLENGER = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/8"


def _serving(cdk_context: dict, tmp_path, mode: str, percent: int = 20, *, context_key: bool = True) -> Template:
    context = copy.deepcopy(served_context(cdk_context))
    challenger = context["mlops"]["environments"]["prod"]["serving"]["challenger"]
    challenger.update(mode=mode, traffic_percent=percent)
    if context_key:
        context["mlops.challenger_package_arn.prod"] = CHALLENGER
    else:
        challenger["package_arn"] = CHALLENGER
    app = cdk.App(context=context, outdir=str(tmp_path))
    return Template.from_stack(build_app(app)["prod"].serving)


def _config(template: Template) -> dict:
    ((_, config),) = template.find_resources("AWS::SageMaker::EndpointConfig").items()
    return config["Properties"]


def _models(template: Template) -> dict[str, str]:
    return {
        logical_id: m["Properties"]["Containers"][0]["ModelPackageName"]
        for logical_id, m in template.find_resources("AWS::SageMaker::Model").items()
    }


def test_shadow_challenger_gets_a_sampled_copy_and_answers_nobody(cdk_context, tmp_path):
    template = _serving(cdk_context, tmp_path, "shadow", 20)
    config = _config(template)
    models = _models(template)
    assert sorted(models.values()) == sorted([SERVED_PACKAGE, CHALLENGER])
    (production,) = config["ProductionVariants"]
    (shadow,) = config["ShadowProductionVariants"]
    assert (production["VariantName"], production["InitialVariantWeight"]) == ("AllTraffic", 1)
    # SageMaker copies the shadow's weight / the production weight of the requests: 20 %.
    assert (shadow["VariantName"], shadow["InitialVariantWeight"]) == ("Challenger", 0.2)
    challenger_model = next(i for i, p in models.items() if p == CHALLENGER)
    assert shadow["ModelName"] == {"Fn::GetAtt": [challenger_model, "ModelName"]}
    # GPU where the champion is: same instance type and count.
    assert shadow["InstanceType"] == production["InstanceType"] == "ml.g5.xlarge"
    assert config["DataCaptureConfig"]["EnableCapture"] is True  # both variants' pairs are captured


def test_ab_challenger_answers_its_weighted_share(cdk_context, tmp_path):
    template = _serving(cdk_context, tmp_path, "ab", 30, context_key=False)
    config = _config(template)
    weights = {v["VariantName"]: v["InitialVariantWeight"] for v in config["ProductionVariants"]}
    assert weights == {"AllTraffic": 0.7, "Challenger": 0.3}
    assert "ShadowProductionVariants" not in config


@pytest.mark.parametrize("mode", ["shadow", "ab"])
def test_challenger_has_its_own_alarms_outside_the_rollback_and_a_comparison_job(cdk_context, tmp_path, mode):
    template = _serving(cdk_context, tmp_path, mode)
    alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
    challenger = [a for a in alarms if {"Name": "VariantName", "Value": "Challenger"} in a.get("Dimensions", [])]
    assert {a["AlarmName"]: a["MetricName"] for a in challenger} == {
        "roberta-sentiment-prod-sentiment-challenger-5xx-errors": "Invocation5XXErrors",
        "roberta-sentiment-prod-sentiment-challenger-model-latency-p99": "ModelLatency",
        "roberta-sentiment-prod-sentiment-challenger-model-errors": "InvocationModelErrors",
    }
    ((_, endpoint),) = template.find_resources("AWS::SageMaker::Endpoint").items()
    # A challenger changes the variant set, which guarded rollouts refuse: SageMaker's default swap.
    assert "DeploymentConfig" not in endpoint["Properties"]
    template.has_resource_properties("AWS::SageMaker::Pipeline", {"PipelineName": "roberta-sentiment-prod-compare"})
    rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
    compare = [r for r in rules if "roberta-sentiment-prod-compare" in json.dumps(r.get("Targets", []))]
    assert len(compare) == 1 and compare[0]["ScheduleExpression"] == "cron(30 * ? * * *)"


def test_comparison_job_reads_both_variants_and_cloudwatch(cdk_context, tmp_path):
    context = copy.deepcopy(served_context(cdk_context))
    context["mlops"]["environments"]["prod"]["serving"]["challenger"]["mode"] = "shadow"
    context["mlops.challenger_package_arn.prod"] = CHALLENGER
    app = cdk.App(context=context, outdir=str(tmp_path))
    stage = build_app(app)["prod"]
    (step,) = json.loads(stage.serving.comparison.definition)["Steps"]
    assert step["Name"] == "CompareVariants"
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    pairs = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert pairs["--mode"] == "shadow" and pairs["--champion-variant"] == "AllTraffic"
    assert pairs["--challenger-variant"] == "Challenger" and pairs["--window-end"] == {"Get": "Execution.StartDateTime"}
    assert pairs["--recommend-margin"] == "0.02" and pairs["--recommend-min-labelled"] == "200"
    policies = json.dumps(Template.from_stack(stage.serving).find_resources("AWS::IAM::Policy"))
    assert (
        "cloudwatch:GetMetricData" in policies
        and "challenger-comparisons/roberta-sentiment-prod-sentiment/*" in policies
    )


@pytest.mark.parametrize("mode", ["off", "shadow"])
def test_no_challenger_variant_without_a_package_or_with_mode_off(cdk_context, tmp_path, mode):
    context = copy.deepcopy(served_context(cdk_context))
    context["mlops"]["environments"]["prod"]["serving"]["challenger"]["mode"] = mode
    if mode == "off":
        context["mlops.challenger_package_arn.prod"] = CHALLENGER
    app = cdk.App(context=context, outdir=str(tmp_path))
    template = Template.from_stack(build_app(app)["prod"].serving)
    config = _config(template)
    assert [v["VariantName"] for v in config["ProductionVariants"]] == ["AllTraffic"]
    assert "ShadowProductionVariants" not in config
    assert not template.find_resources(
        "AWS::SageMaker::Pipeline", {"Properties": {"PipelineName": "roberta-sentiment-prod-compare"}}
    )
    ((_, endpoint),) = template.find_resources("AWS::SageMaker::Endpoint").items()
    assert "DeploymentConfig" in endpoint["Properties"]


def test_shipped_config_runs_shadow_tests_in_staging(cdk_context):
    from infra.config import load_config

    configs = load_config(cdk_context["mlops"])
    assert {name: c.serving.challenger.mode for name, c in configs.items()} == {
        "dev": "off", "staging": "shadow", "prod": "off"
    }  # fmt: skip
