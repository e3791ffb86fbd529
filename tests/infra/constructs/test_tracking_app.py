"""TrackingApp on its own: the MLflow App, its service role, and what grant_logging gives.

Props (all required): ``name``, ``bucket_name`` (the models bucket's fixed name), ``key``
(the bucket's key), ``config`` (TrackingConfig: removal policy, maintenance window, model
registration). Where ``tracking.enabled`` is false the data stack builds none.
"""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from infra.config import TrackingConfig
from infra.constructs.tracking_app import TrackingApp
from infra.stacks.data_stack import DataStack
from tests.infra.constructs.conftest import (
    ACCOUNT,
    REGION,
    actions_of,
    assert_least_privilege,
    lake_key,
    make_config,
    new_stack,
    resources_for,
    role_with_principal,
    statements,
)

BUCKET = "demo-test-models-123456789012"
OBJECTS = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{BUCKET}/mlflow/*"]]}
LOGGING = {"sagemaker:CallMlflowAppApi", "sagemaker:DescribeMlflowApp"}
ENABLED = TrackingConfig(enabled=True)


def build(stack: cdk.Stack, config: TrackingConfig = ENABLED) -> TrackingApp:
    return TrackingApp(stack, "Tracking", name="demo-test", bucket_name=BUCKET, key=lake_key(stack), config=config)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    stack = new_stack(tmp_path_factory.mktemp("tracking"))
    build(stack)
    return Template.from_stack(stack)


def test_app_keeps_artifacts_under_the_models_bucket_mlflow_prefix(template):
    template.resource_count_is("AWS::SageMaker::MlflowApp", 1)
    template.has_resource_properties(
        "AWS::SageMaker::MlflowApp",
        {
            "Name": "demo-test",
            "ArtifactStoreUri": f"s3://{BUCKET}/mlflow/",
            "ModelRegistrationMode": "AutoModelRegistrationDisabled",
            "WeeklyMaintenanceWindowStart": "Sun:03:00",
            "RoleArn": {"Fn::GetAtt": [role_with_principal(template, "sagemaker.amazonaws.com"), "Arn"]},
        },
    )


def test_service_role_reaches_only_the_artifact_prefix_and_the_key_through_s3(template):
    assert_least_privilege(template)
    role = role_with_principal(template, "sagemaker.amazonaws.com")
    assert actions_of(template, role) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListBucket",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    assert resources_for(template, "s3:PutObject", role) == [OBJECTS]
    (listing,) = [s for s in statements(template, role) if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["mlflow", "mlflow/*"]}}
    (kms,) = [s for s in statements(template, role) if "kms:Decrypt" in s["Action"]]
    assert kms["Resource"]["Fn::GetAtt"][0].startswith("LakeKey")
    assert "kms:ViaService" in kms["Condition"]["StringEquals"]


@pytest.mark.parametrize(("policy", "deletion"), [("retain", "Retain"), ("destroy", "Delete")])
def test_removal_policy_follows_the_tracking_config(tmp_path, policy, deletion):
    stack = new_stack(tmp_path)
    build(stack, TrackingConfig(enabled=True, removal_policy=policy))
    Template.from_stack(stack).has_resource(
        "AWS::SageMaker::MlflowApp", {"DeletionPolicy": deletion, "UpdateReplacePolicy": deletion}
    )


def test_model_registration_and_window_come_from_config(tmp_path):
    stack = new_stack(tmp_path)
    build(stack, TrackingConfig(enabled=True, weekly_maintenance_window="Tue:22:30", model_registration=True))
    Template.from_stack(stack).has_resource_properties(
        "AWS::SageMaker::MlflowApp",
        {"ModelRegistrationMode": "AutoModelRegistrationEnabled", "WeeklyMaintenanceWindowStart": "Tue:22:30"},
    )


def test_grant_logging_in_the_same_stack_names_the_app_by_its_arn(tmp_path):
    stack = new_stack(tmp_path)
    tracking = build(stack)
    job = iam.Role(stack, "Job", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    tracking.grant_logging(job)
    template = Template.from_stack(stack)
    job_id = next(k for k in template.find_resources("AWS::IAM::Role") if k.startswith("Job"))
    app_id = next(iter(template.find_resources("AWS::SageMaker::MlflowApp")))
    (logging,) = [s for s in statements(template, job_id) if "sagemaker:CallMlflowAppApi" in s["Action"]]
    assert set(logging["Action"]) == LOGGING
    assert logging["Resource"] == {"Fn::GetAtt": [app_id, "Arn"]}
    assert resources_for(template, "s3:PutObject", job_id) == [OBJECTS]
    assert resources_for(template, "s3:GetObject", job_id) == [OBJECTS]
    assert actions_of(template, job_id) == LOGGING | {
        "s3:GetObject",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }


def test_grant_logging_in_another_stack_imports_the_fixed_name_export(tmp_path):
    stack = new_stack(tmp_path)
    tracking = build(stack)
    other = cdk.Stack(stack.node.scope, "Jobs", env=cdk.Environment(account=ACCOUNT, region=REGION))
    job = iam.Role(other, "Job", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    tracking.grant_logging(job)
    tracking.grant_logging(iam.Role(other, "Another", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))
    resources = resources_for(Template.from_stack(other), "sagemaker:CallMlflowAppApi")
    assert resources == [{"Fn::ImportValue": "Test-mlflow-app-arn"}] * 2
    exports = Template.from_stack(stack).find_outputs("*", {"Export": {"Name": "Test-mlflow-app-arn"}})
    assert len(exports) == 1  # one export, however many grants


@pytest.mark.parametrize("enabled", [True, False])
def test_data_stack_builds_the_app_only_where_tracking_is_enabled(tmp_path, enabled):
    app = cdk.App(outdir=str(tmp_path))
    config = make_config(tracking=TrackingConfig(enabled=enabled))
    data = DataStack(
        app, "Data", config=config, promotion_accounts=(), env=cdk.Environment(account=ACCOUNT, region=REGION)
    )
    template = Template.from_stack(data)
    template.resource_count_is("AWS::SageMaker::MlflowApp", 1 if enabled else 0)
    assert (data.tracking is not None) is enabled
    assert (data.tracking_uri != "") is enabled
    if enabled:
        template.has_resource_properties(
            "AWS::SageMaker::MlflowApp",
            {"Name": "demo-test", "ArtifactStoreUri": f"s3://{config.models_bucket_name}/mlflow/"},
        )
