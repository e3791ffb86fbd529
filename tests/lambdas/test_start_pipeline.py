"""One pipeline execution per dataset drop: the _SUCCESS marker's folder becomes InputDataUri."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

PIPELINE = "roberta-sentiment-dev-training"


def s3_event(key: str, etag: str = "abc123", bucket: str = "raw-bucket") -> dict:
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111111111111",
        "time": "2026-11-23T12:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key, "size": 0, "etag": etag}},
    }


@pytest.fixture()
def sagemaker(start_pipeline_module, monkeypatch):
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(start_pipeline_module, "_sagemaker", client)
    monkeypatch.setenv("PIPELINE_NAME", PIPELINE)
    monkeypatch.setenv("INPUT_DATA_PARAMETER", "InputDataUri")
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def _expect_start(stubber, uri: str) -> None:
    stubber.add_response(
        "start_pipeline_execution",
        {"PipelineExecutionArn": f"arn:aws:sagemaker:us-east-1:111111111111:pipeline/{PIPELINE}/execution/x1"},
        {
            "PipelineName": PIPELINE,
            "PipelineExecutionDisplayName": ANY,
            "PipelineParameters": [{"Name": "InputDataUri", "Value": uri}],
            "ClientRequestToken": ANY,
        },
    )


def test_marker_starts_one_execution_for_its_folder(start_pipeline_module, sagemaker, lambda_context):
    _expect_start(sagemaker, "s3://raw-bucket/womens-clothing-reviews/dt=2026-11-23/")
    result = start_pipeline_module.handler(s3_event("womens-clothing-reviews/dt=2026-11-23/_SUCCESS"), lambda_context)
    assert result["started"] is True
    assert result["input_data_uri"] == "s3://raw-bucket/womens-clothing-reviews/dt=2026-11-23/"


def test_redelivered_event_reuses_the_token_and_a_new_marker_gets_a_new_one(start_pipeline_module):
    from drop import drop_from_event

    event = s3_event("amazon-customer-reviews/dt=2026-11-23/_SUCCESS")["detail"]
    first, again = drop_from_event(event), drop_from_event(dict(event))
    assert first.client_request_token == again.client_request_token
    assert 32 <= len(first.client_request_token) <= 128
    redropped = s3_event("amazon-customer-reviews/dt=2026-11-23/_SUCCESS", etag="def456")["detail"]
    assert drop_from_event(redropped).client_request_token != first.client_request_token


def test_url_encoded_keys_are_decoded(start_pipeline_module, sagemaker, lambda_context):
    _expect_start(sagemaker, "s3://raw-bucket/my reviews/dt=2026-11-23/")
    result = start_pipeline_module.handler(s3_event("my+reviews/dt%3D2026-11-23/_SUCCESS"), lambda_context)
    assert result["input_data_uri"] == "s3://raw-bucket/my reviews/dt=2026-11-23/"


@pytest.mark.parametrize(
    ("key", "reason"),
    [("womens-clothing-reviews/dt=2026-11-23/part-0.csv", "is not a _SUCCESS marker"), ("_SUCCESS", "bucket root")],
)
def test_data_files_and_root_markers_start_nothing(start_pipeline_module, sagemaker, lambda_context, key, reason):
    result = start_pipeline_module.handler(s3_event(key), lambda_context)
    assert result["started"] is False and reason in result["reason"]


def test_malformed_event_is_logged_and_dropped(start_pipeline_module, sagemaker, lambda_context, caplog):
    event = s3_event("x/_SUCCESS")
    del event["detail"]["object"]
    result = start_pipeline_module.handler(event, lambda_context)
    assert result == {"started": False, "reason": "not an S3 object event: missing 'object'"}
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == ["ignored event"]


def test_a_failed_start_raises_so_eventbridge_retries_and_then_dead_letters(
    start_pipeline_module, sagemaker, lambda_context
):
    sagemaker.add_client_error(
        "start_pipeline_execution", service_error_code="ThrottlingException", http_status_code=400
    )
    with pytest.raises(Exception, match="ThrottlingException"):
        start_pipeline_module.handler(s3_event("a/dt=1/_SUCCESS"), lambda_context)
