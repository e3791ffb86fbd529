"""ml_code/monitor.py against AWS, through botocore Stubbers (moto is not among the pinned test
packages): S3 listing and streamed reads of capture files (gzip too), the ``served`` reference
resolved through SSM and DescribeModelPackage, and the whole job reading s3:// URIs only."""

from __future__ import annotations

import gzip
import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from ml_code import monitor
from ml_code.monitoring import reference, storage
from tests.ml_code.monitor_fixtures import line, write_reference

ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/roberta-sentiment-dev-sentiment/7"
KEYS = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "x"}


def _body(data: bytes) -> dict:
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentLength": len(data)}


@pytest.fixture
def s3(monkeypatch):
    client = boto3.client("s3", **KEYS)
    monkeypatch.setattr(storage, "_s3", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_s3_listing_pages_and_streamed_gzip_lines(s3):
    s3.add_response(
        "list_objects_v2",
        {"CommonPrefixes": [{"Prefix": "cap/ep/Green/"}, {"Prefix": "cap/ep/Blue/"}]},
        {"Bucket": "b", "Prefix": "cap/ep/", "Delimiter": "/"},
    )
    assert storage.subfolders("s3://b/cap/ep") == ["Blue", "Green"]
    hour = {"Bucket": "b", "Prefix": "cap/ep/Blue/2026/12/02/02/"}
    s3.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "cap/ep/Blue/2026/12/02/02/a.jsonl"}], "IsTruncated": True, "NextContinuationToken": "t"},
        hour,
    )
    s3.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "cap/ep/Blue/2026/12/02/02/b.jsonl.gz"}]},
        {**hour, "ContinuationToken": "t"},
    )
    assert list(storage.files("s3://b/cap/ep/Blue/2026/12/02/02")) == [
        "s3://b/cap/ep/Blue/2026/12/02/02/a.jsonl",
        "s3://b/cap/ep/Blue/2026/12/02/02/b.jsonl.gz",
    ]
    text = 'one\n{"a": "x\u2028y"}\r\nthree'
    s3.add_response("get_object", _body(gzip.compress(text.encode())), {"Bucket": "b", "Key": "k.jsonl.gz"})
    assert list(storage.lines("s3://b/k.jsonl.gz", chunk_size=4)) == ["one", '{"a": "x\u2028y"}\r', "three"]


def _clients(monkeypatch, package: dict):
    ssm, sagemaker = boto3.client("ssm", **KEYS), boto3.client("sagemaker", **KEYS)
    ssm_stub, sm_stub = Stubber(ssm), Stubber(sagemaker)
    ssm_stub.add_response("get_parameter", {"Parameter": {"Name": "/p/served", "Value": ARN}}, {"Name": "/p/served"})
    sm_stub.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "roberta-sentiment-dev-sentiment",
            "ModelPackageArn": ARN,
            "CreationTime": "2026-11-30T00:00:00Z",
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            **package,
        },
        {"ModelPackageName": ARN},
    )
    monkeypatch.setattr(monitor, "aws", lambda service: {"ssm": ssm, "sagemaker": sagemaker}[service])
    return ssm, sagemaker, ssm_stub, sm_stub


SERVED_PACKAGE = {
    "CustomerMetadataProperties": {"MonitoringReferenceUri": "s3://models/baselines/exec-1/reference"},
    "ModelMetrics": {
        "ModelQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": "s3://models/evaluation/exec-1/evaluation.json"}
        }
    },
}


def test_served_resolves_the_reference_and_evaluation_of_the_package_the_endpoint_serves(monkeypatch):
    ssm, sagemaker, ssm_stub, sm_stub = _clients(monkeypatch, SERVED_PACKAGE)
    with ssm_stub, sm_stub:
        assert reference.resolve_served(ssm, sagemaker, "/p/served") == {
            "model_package_arn": ARN,
            "reference_uri": "s3://models/baselines/exec-1/reference",
            "evaluation_uri": "s3://models/evaluation/exec-1/evaluation.json",
        }
    ssm, sagemaker, ssm_stub, sm_stub = _clients(monkeypatch, {})
    with ssm_stub, sm_stub, pytest.raises(reference.ReferenceError, match="has no CustomerMetadataProperties Monit"):
        reference.resolve_served(ssm, sagemaker, "/p/served")
    ssm_stub = Stubber(ssm)
    ssm_stub.add_client_error("get_parameter", "ParameterNotFound", "no such parameter")
    with ssm_stub, pytest.raises(reference.ReferenceError, match="cannot resolve the served model package from /p/s"):
        reference.resolve_served(ssm, sagemaker, "/p/served")
    with pytest.raises(reference.ReferenceError, match="needs --served-package-parameter"):
        reference.resolve_served(ssm, sagemaker, "")


def test_the_whole_job_on_s3_with_the_served_reference(monkeypatch, s3, tmp_path):
    texts = [f"lovely soft dress number {i} fits well and the colour is warm" for i in range(40)]
    reference_csv = write_reference(tmp_path / "ref", [(t, 1 + i % 5) for i, t in enumerate(texts)]) / "reference.csv"
    evaluation = json.dumps({"multiclass_classification_metrics": {"accuracy": {"value": 0.8}}}).encode()
    capture = "".join(line(f"e{i}", [texts[i]], [5], inference_id=f"id{i}") + "\n" for i in range(10)).encode()
    _, _, ssm_stub, sm_stub = _clients(monkeypatch, SERVED_PACKAGE)
    s3.add_response(
        "get_object",
        _body(reference_csv.read_bytes()),
        {"Bucket": "models", "Key": "baselines/exec-1/reference/reference.csv"},
    )
    s3.add_response("get_object", _body(evaluation), {"Bucket": "models", "Key": "evaluation/exec-1/evaluation.json"})
    s3.add_response(
        "list_objects_v2",
        {"CommonPrefixes": [{"Prefix": "cap/ep/AllTraffic/"}]},
        {"Bucket": "cap-bucket", "Prefix": "cap/ep/", "Delimiter": "/"},
    )
    s3.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "cap/ep/AllTraffic/2026/12/02/02/x.jsonl"}]},
        {"Bucket": "cap-bucket", "Prefix": "cap/ep/AllTraffic/2026/12/02/02/"},
    )
    s3.add_response(
        "get_object", _body(capture), {"Bucket": "cap-bucket", "Key": "cap/ep/AllTraffic/2026/12/02/02/x.jsonl"}
    )
    with ssm_stub, sm_stub:
        monitor.main(
            [
                "--capture-uri",
                "s3://cap-bucket/cap/ep",
                "--window-end",
                "2026-12-02T03:00:12.345Z",
                "--reference-uri",
                "served",
                "--served-package-parameter",
                "/p/served",
                "--report-dir",
                str(tmp_path / "report"),
                "--exit-message-file",
                str(tmp_path / "message"),
            ]
        )
    report = json.loads((tmp_path / "report" / "2026/12/02/03" / "report.json").read_text())
    assert report["reference"]["model_package_arn"] == ARN and report["reference"]["rows"] == 40
    assert report["reference"]["evaluation_accuracy"] == 0.8
    assert report["records_analysed"] == 10 and report["counts"]["files"] == 1


def test_an_unreadable_s3_reference_fails_the_job_with_a_message(s3, tmp_path):
    s3.add_client_error("get_object", "AccessDenied", "Access Denied", 403)
    with pytest.raises(SystemExit):
        monitor.main(
            [
                "--capture-uri",
                "s3://cap-bucket/cap/ep",
                "--reference-uri",
                "s3://models/ref/",
                "--report-dir",
                str(tmp_path / "report"),
                "--exit-message-file",
                str(tmp_path / "message"),
            ]
        )
    message = (tmp_path / "message").read_text()
    assert message.startswith("reference s3://models/ref/reference.csv is missing or unreadable: AccessDenied")
    assert "AccessDenied" in message
