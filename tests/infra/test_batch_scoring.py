"""The batch scoring pipeline (issue 6, item 4): its SDK-built definition, its role, its gates.

Each environment's construct is built in a small app of its own, from the real cdk.json,
with cdk-nag on; bucket and key ARNs are imports, as they are across stacks in the real app.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template
from cdk_nag import AwsSolutionsChecks

from infra.config import load_config
from infra.constructs.artifact_source import ArtifactSource
from infra.constructs.batch_scoring import BatchScoring
from infra.constructs.batch_scoring_role import packages_of
from infra.pipeline.batch_definition import BATCH_ENVIRONMENT, MAX_PAYLOAD_MB, build_batch_pipeline
from infra.pipeline.sdk_session import offline_pipeline_session
from infra.validation_report import failures

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
KEY = "data-key-arn"
# Promoted environments score the packages dev registered (infra/stage.py: source=dev).
DEV_GROUP = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/roberta-sentiment-dev-sentiment"


@dataclasses.dataclass
class Built:
    construct: BatchScoring
    template: Template
    outdir: Path
    nag_error: Exception | None
    aws_calls: list[str]


def _build(cdk_context: dict, env: str, outdir: Path, *, nag: bool = True, before_synth=None) -> Built:
    configs = load_config(cdk_context["mlops"])
    config = configs[env]
    app = cdk.App(context=cdk_context, outdir=str(outdir))
    stack = cdk.Stack(app, "Batch", env=cdk.Environment(account=config.account, region=config.region))
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    construct = BatchScoring(
        stack,
        "BatchScoring",
        config=config,
        buckets={name: cdk.Fn.import_value(f"data-{name}-bucket-arn") for name in ("input", "output")},
        bucket_names={"input": f"{env}-raw", "output": f"{env}-features"},
        key_arn=cdk.Fn.import_value(KEY),
        model_package_group_name=config.model_package_group_name,
        artifacts=ArtifactSource.of(configs["dev"]),
        upstream_group_arns=[DEV_GROUP] if env != "dev" else [],
    )
    if before_synth:
        before_synth(construct)
    error = None
    try:
        app.synth()
    except RuntimeError as caught:  # cdk-nag findings (reported by test_nag_and_cfn_lint_are_clean)
        error = caught
    template = Template.from_json(json.loads((outdir / "Batch.template.json").read_text()))
    return Built(construct, template, outdir, error, [])


@pytest.fixture(scope="module")
def built(cdk_context, tmp_path_factory) -> dict[str, Built]:
    """dev (own registry only) and prod (also dev's registry, promoted from), built with AWS and
    the network refused: every request the SDK's botocore session prepares, and every socket
    connect, is recorded."""
    calls: list[str] = []
    boto = offline_pipeline_session("us-east-1", "unused").boto_session  # the one the builds share

    def record_request(request, **_):
        calls.append(f"{request.method} {request.url}")

    def refuse_connect(self, address):
        calls.append(f"connect {address}")
        raise OSError("network refused in this test")

    boto.events.register_first("before-send", record_request)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(socket.socket, "connect", refuse_connect)
            result = {
                "dev": _build(cdk_context, "dev", tmp_path_factory.mktemp("dev")),
                "prod": _build(cdk_context, "prod", tmp_path_factory.mktemp("prod")),
            }
    finally:
        boto.events.unregister("before-send", record_request)
    for item in result.values():
        item.aws_calls = calls
    return result


def _flat(node) -> str:
    """A CloudFormation expression as text: imports as <import:name>, refs as <ref:id>."""
    if isinstance(node, str):
        return node
    if "Fn::Join" in node:
        delimiter, parts = node["Fn::Join"]
        return delimiter.join(_flat(part) for part in parts)
    if "Fn::ImportValue" in node:
        return f"<import:{node['Fn::ImportValue']}>"
    if "Ref" in node:
        return "aws" if node["Ref"] == "AWS::Partition" else f"<ref:{node['Ref']}>"
    if "Fn::GetAtt" in node:
        return "<{}.{}>".format(*node["Fn::GetAtt"])
    raise AssertionError(f"unexpected expression {node}")


def _definition(item: Built) -> dict:
    """The pipeline definition as CloudFormation receives it, tokens resolved to text."""
    (pipeline,) = item.template.find_resources("AWS::SageMaker::Pipeline").values()
    return json.loads(_flat(pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]))


def _steps(item: Built) -> dict[str, dict]:
    return {step["Name"]: step for step in _definition(item)["Steps"]}


def _role_id(item: Built) -> str:
    (role_id,) = item.template.find_resources("AWS::IAM::Role")
    return role_id


def _statements(item: Built) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """Resources (flattened, sorted) keyed by each statement's sorted actions, and the conditions
    of statements that have any; statements with the same actions are merged."""
    (policy,) = item.template.find_resources("AWS::IAM::Policy").values()
    resources, conditions = {}, {}
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        key = " ".join(sorted(actions))
        resources[key] = sorted(resources.get(key, []) + [_flat(target) for target in targets])
        if "Condition" in statement:
            assert key not in conditions, key
            conditions[key] = statement["Condition"]
    return resources, conditions


# --- the pipeline resource and its definition ----------------------------------------------


def test_pipeline_resource_is_named_for_the_environment_and_runs_as_its_own_role(built):
    item = built["dev"]
    role = Capture()
    item.template.resource_count_is("AWS::SageMaker::Pipeline", 1)
    item.template.has_resource_properties(
        "AWS::SageMaker::Pipeline",
        {"PipelineName": "roberta-sentiment-dev-batch-scoring", "RoleArn": {"Fn::GetAtt": [role, "Arn"]}},
    )
    assert role.as_string() == _role_id(item)
    (policy_id,) = item.template.find_resources("AWS::IAM::Policy")
    item.template.has_resource("AWS::SageMaker::Pipeline", {"DependsOn": Match.array_with([policy_id])})
    assert item.construct.pipeline_arn.endswith(":pipeline/roberta-sentiment-dev-batch-scoring")


def test_steps_create_a_model_from_the_package_then_transform_with_it(built):
    item = built["dev"]
    steps = _steps(item)
    assert {name: step["Type"] for name, step in steps.items()} == {
        "PackageModel-CreateModel": "Model",
        "Score": "Transform",
    }
    model = steps["PackageModel-CreateModel"]["Arguments"]
    assert model["Containers"] == [{"ModelPackageName": {"Get": "Parameters.ModelPackageArn"}}]
    assert model["EnableNetworkIsolation"] is True
    assert model["ExecutionRoleArn"] == f"arn:aws:iam::111111111111:role/<ref:{_role_id(item)}>"
    # Custom job prefixes: the role may create only models and jobs with this prefix.
    assert model["ModelName"] == "roberta-sentiment-dev-batch"
    transform = steps["Score"]["Arguments"]
    assert transform["TransformJobName"] == "roberta-sentiment-dev-batch"
    assert transform["ModelName"] == {"Get": "Steps.PackageModel-CreateModel.ModelName"}


def test_transform_splits_and_assembles_lines_under_the_lake_key(built):
    transform = _steps(built["dev"])["Score"]["Arguments"]
    source = transform["TransformInput"]
    data = source["DataSource"]["S3DataSource"]
    assert data == {"S3DataType": "S3Prefix", "S3Uri": {"Get": "Parameters.InputDataUri"}}
    assert source["SplitType"] == "Line" and source["ContentType"] == {"Get": "Parameters.ContentType"}
    output = transform["TransformOutput"]
    assert output["AssembleWith"] == "Line" and output["Accept"] == "application/jsonlines"
    assert output["KmsKeyId"] == f"<import:{KEY}>"
    execution_folder = [{"Get": "Parameters.OutputDataUri"}, {"Get": "Execution.PipelineExecutionId"}]
    assert output["S3OutputPath"] == {"Std:Join": {"On": "/", "Values": execution_folder}}
    assert transform["BatchStrategy"] == "MultiRecord" and transform["MaxPayloadInMB"] == MAX_PAYLOAD_MB == 1
    resources = transform["TransformResources"]
    assert resources["InstanceType"] == {"Get": "Parameters.InstanceType"}
    assert resources["InstanceCount"] == {"Get": "Parameters.InstanceCount"}
    # ml.g4dn.xlarge (the config's type) has NVMe storage: SageMaker rejects a volume key there.
    assert "VolumeKmsKeyId" not in resources
    assert transform["ModelClientConfig"]["InvocationsTimeoutInSeconds"] == 3600
    assert transform["Environment"] == BATCH_ENVIRONMENT


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_parameters_default_to_the_environments_config(built, env):
    params = {p["Name"]: p for p in _definition(built[env])["Parameters"]}
    assert list(params) == [
        "ModelPackageArn",
        "InputDataUri",
        "OutputDataUri",
        "InstanceType",
        "InstanceCount",
        "ContentType",
    ]
    assert "DefaultValue" not in params["ModelPackageArn"]  # required: every run names its model
    assert params["InputDataUri"]["DefaultValue"] == f"s3://{env}-raw/batch-scoring/"
    assert params["OutputDataUri"]["DefaultValue"] == f"s3://{env}-features/roberta-sentiment-{env}-batch-scoring"
    assert params["InstanceType"]["DefaultValue"] == "ml.g4dn.xlarge"
    # Only types whose storage takes the same (no) volume key; all the package supports.
    assert params["InstanceType"]["EnumValues"] == ["ml.g5.xlarge", "ml.g5.2xlarge", "ml.g4dn.xlarge"]
    assert params["InstanceCount"] == {"Name": "InstanceCount", "Type": "Integer", "DefaultValue": 1}
    assert params["ContentType"]["DefaultValue"] == "application/jsonlines"
    assert params["ContentType"]["EnumValues"] == ["application/jsonlines", "text/csv"]


def test_job_steps_retry_throttling_and_capacity_errors_and_no_experiment_is_created(built):
    definition = _definition(built["dev"])
    assert definition["PipelineExperimentConfig"] is None  # no experiment permissions needed
    steps = {s["Name"]: s for s in definition["Steps"]}
    kinds = {kind for policy in steps["Score"]["RetryPolicies"] for kind in policy["ExceptionType"]}
    assert {"Step.THROTTLING", "SageMaker.CAPACITY_ERROR"} <= kinds
    (model_retries,) = steps["PackageModel-CreateModel"]["RetryPolicies"]
    assert model_retries["ExceptionType"] == ["Step.THROTTLING", "Step.SERVICE_FAULT"]


def test_the_handler_accepts_whatever_sagemaker_packs_into_one_request():
    from ml_code.inference import CSV, JSONLINES, PARSERS, limits_from_env, output_fn, prediction, validate_texts

    limits = limits_from_env(BATCH_ENVIRONMENT)
    payload = MAX_PAYLOAD_MB * 1024 * 1024
    shortest = ["a"] * (payload // 2)  # "a\n" lines filling the whole payload
    assert validate_texts(shortest, limits) == shortest
    assert validate_texts(["x" * (payload - 1)], limits)  # one line as long as the payload
    assert {"application/jsonlines", CSV} <= set(PARSERS) and "application/jsonlines" in JSONLINES
    # The longest answer line the handler writes fits the model server's response cap for every text.
    widest = prediction([1 / 3 + 2e-7, 1 / 3 - 1e-7, 1 / 3 - 1e-7], num_tokens=payload, max_length=512)
    line = output_fn([widest], "application/jsonlines")
    assert len(line) * limits.max_texts <= int(BATCH_ENVIRONMENT["MMS_MAX_RESPONSE_SIZE"])


# --- the NVMe volume-key rule (infra/instance_storage.py) ------------------------------------


def _batch_config(cdk_context, instance_type: str):
    config = load_config(cdk_context["mlops"])["dev"]
    batch = dataclasses.replace(config.batch_scoring, instance_type=instance_type)
    return dataclasses.replace(config, batch_scoring=batch)


def _literal_definition(config, types=None) -> dict:
    extra = {"transform_instance_types": types} if types else {}
    pipeline = build_batch_pipeline(
        config,
        role_arn="arn:aws:iam::111111111111:role/batch",
        kms_key_arn="arn:aws:kms:us-east-1:111111111111:key/k",
        default_input_uri="s3://raw/in/",
        default_output_uri="s3://features/out",
        work_bucket="features",
        **extra,
    )
    return json.loads(pipeline.definition())


def test_ebs_backed_types_get_the_volume_key_and_runs_stay_on_ebs_types(cdk_context):
    types = ("ml.g4dn.xlarge", "ml.m5.xlarge", "ml.c5.xlarge")
    definition = _literal_definition(_batch_config(cdk_context, "ml.m5.xlarge"), types)
    (transform,) = [s["Arguments"] for s in definition["Steps"] if s["Type"] == "Transform"]
    assert transform["TransformResources"]["VolumeKmsKeyId"] == "arn:aws:kms:us-east-1:111111111111:key/k"
    params = {p["Name"]: p for p in definition["Parameters"]}
    assert params["InstanceType"]["EnumValues"] == ["ml.m5.xlarge", "ml.c5.xlarge"]


def test_an_instance_type_the_packages_do_not_support_fails_at_synth(cdk_context):
    with pytest.raises(ValueError, match=r"batch_scoring.instance_type of dev: ml.c5.xlarge is not one of"):
        _literal_definition(_batch_config(cdk_context, "ml.c5.xlarge"))


def test_the_definition_is_the_same_on_every_build(cdk_context, built, tmp_path):
    again = _build(cdk_context, "dev", tmp_path, nag=False)
    template = "Batch.template.json"
    assert (again.outdir / template).read_bytes() == (built["dev"].outdir / template).read_bytes()
    assert _definition(again) == _definition(built["dev"])
    assert _literal_definition(_batch_config(cdk_context, "ml.g4dn.xlarge")) == _literal_definition(
        _batch_config(cdk_context, "ml.g4dn.xlarge")
    )


def test_building_calls_no_aws_api_and_opens_no_connection(built):
    assert built["dev"].aws_calls == []


# --- the role ---------------------------------------------------------------------------------


def test_role_is_trusted_by_sagemaker_only_and_has_no_managed_policy(built):
    template = built["dev"].template
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
                ]
            },
            "ManagedPolicyArns": Match.absent(),
        },
    )
    assert "FullAccess" not in json.dumps(template.to_json())


def test_role_statements_are_scoped_to_this_environments_resources(built):
    item = built["dev"]
    sm, bucket = "arn:aws:sagemaker:us-east-1:111111111111", "<import:data-{}-bucket-arn>".format
    resources, conditions = _statements(item)
    assert resources == {
        "s3:GetObject": [f"{bucket('input')}/*", "arn:aws:s3:::roberta-sentiment-dev-models-111111111111/training/*"],
        "s3:ListBucket": [bucket("input")],
        "s3:AbortMultipartUpload s3:PutObject": [f"{bucket('output')}/roberta-sentiment-dev-batch-scoring/*"],
        "sagemaker:DescribeModelPackage": [f"{sm}:model-package/roberta-sentiment-dev-sentiment/*"],
        # NVMe instance type: no job volume under the key, so no kms:CreateGrant.
        "kms:Decrypt kms:DescribeKey kms:GenerateDataKey": [f"<import:{KEY}>"],
        "kms:Decrypt": ["arn:aws:kms:us-east-1:111111111111:key/*"],  # model.tar.gz, by the key's alias
        "sagemaker:AddTags sagemaker:CreateModel sagemaker:DescribeModel": [f"{sm}:model/roberta-sentiment-dev-batch*"],
        "sagemaker:AddTags sagemaker:CreateTransformJob sagemaker:DescribeTransformJob sagemaker:StopTransformJob": [
            f"{sm}:transform-job/roberta-sentiment-dev-batch*"
        ],
        "iam:PassRole": [f"<{_role_id(item)}.Arn>"],
        "logs:CreateLogGroup logs:CreateLogStream logs:DescribeLogStreams logs:PutLogEvents": [
            "arn:aws:logs:us-east-1:111111111111:log-group:/aws/sagemaker/TransformJobs:*"
        ],
        "cloudwatch:PutMetricData": ["*"],
        "ecr:BatchCheckLayerAvailability ecr:BatchGetImage ecr:GetDownloadUrlForLayer": [
            "arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-inference"
        ],
        "ecr:GetAuthorizationToken": ["*"],
    }
    assert conditions == {
        "iam:PassRole": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        "cloudwatch:PutMetricData": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        "kms:Decrypt": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/roberta-sentiment-dev-data-lake"}},
    }


def test_promoted_environment_may_also_score_the_source_registrys_packages(built):
    resources, conditions = _statements(built["prod"])
    assert resources["sagemaker:DescribeModelPackage"] == [
        "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/*",
        "arn:aws:sagemaker:us-east-1:333333333333:model-package/roberta-sentiment-prod-sentiment/*",
    ]
    # The packages' model.tar.gz stay in dev's models bucket, under dev's key (read only).
    assert "arn:aws:s3:::roberta-sentiment-dev-models-111111111111/training/*" in resources["s3:GetObject"]
    assert resources["kms:Decrypt"] == ["arn:aws:kms:us-east-1:111111111111:key/*"]
    assert conditions["kms:Decrypt"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": "alias/roberta-sentiment-dev-data-lake"
    }


def test_a_malformed_group_arn_is_refused():
    assert packages_of(DEV_GROUP).endswith(":model-package/roberta-sentiment-dev-sentiment/*")
    with pytest.raises(ValueError, match="expected a model package group ARN"):
        packages_of("arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/1")


# --- security gates ---------------------------------------------------------------------------


def test_nag_and_cfn_lint_are_clean(built):
    for item in built.values():
        assert item.nag_error is None and failures(item.outdir) == []
        assert json.loads((item.outdir / "validation-report.json").read_text())["pluginReports"] == []
    # Run from the repo root so .cfnlintrc.yaml (the one list of ignored rules) applies.
    result = subprocess.run(
        [str(CFN_LINT), "--format", "parseable", *(str(i.outdir / "Batch.template.json") for i in built.values())],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unacknowledged_wildcard_on_the_role_still_fails_nag(cdk_context, tmp_path):
    # The acknowledgements name their resources one by one: a new wildcard is not covered.
    from aws_cdk import aws_iam as iam

    def plant(construct: BatchScoring) -> None:
        construct.role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=["arn:aws:s3:::other/*"]))

    item = _build(cdk_context, "dev", tmp_path, before_synth=plant)
    assert isinstance(item.nag_error, RuntimeError) and "ValidationFailed" in str(item.nag_error)
    found = failures(tmp_path)
    assert len(found) == 1 and "AwsSolutions-IAM5[Resource::arn:aws:s3:::other/*]" in found[0]
