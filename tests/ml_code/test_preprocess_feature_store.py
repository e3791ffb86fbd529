"""Feature Store ingestion against botocore's Stubber (moto has no featurestore-runtime put_record)."""

from __future__ import annotations

import json
import threading

import boto3
import pyarrow as pa
import pytest
from botocore.stub import Stubber

from ml_code.common.features import FEATURE_NAMES
from ml_code.preprocessing.errors import FeatureStoreError
from ml_code.preprocessing.feature_store import Ingestor, IngestSettings, to_record
from ml_code.preprocessing.output import SCHEMA
from tests.conftest import SAMPLE_DATA
from tests.ml_code.preprocess_helpers import read_all, read_report, run_job

GROUP = "reviews-dev"


def _table(n: int) -> pa.Table:
    rows = [
        {
            "review_id": f"R{i}",
            "event_time": 1.7e9 + i,
            "sentiment": 1,
            "label_id": 2,
            "input_ids": [0, 5, 2],
            "review_body": f"text {i}",
            "product_category": "Tops",
            "split_type": "train",
        }
        for i in range(n)
    ]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


@pytest.fixture()
def client(monkeypatch):
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = boto3.client(
        "sagemaker-featurestore-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _ingestor(client, sleeps=None, **settings) -> Ingestor:
    settings = {"concurrency": 1, "max_attempts": 4, "base_delay": 0.5, "max_failure_rate": 0.01, **settings}
    sleep = Sleeps() if sleeps is None else sleeps
    return Ingestor(IngestSettings(GROUP, **settings), client_factory=lambda _: client, sleep=sleep)


def _expect(review_id: str, table: pa.Table) -> dict:
    row = next(r for r in table.to_pylist() if r["review_id"] == review_id)
    return {"FeatureGroupName": GROUP, "Record": to_record(row)}


def test_every_record_is_put_with_exactly_the_feature_names(client):
    client, stubber = client
    table = _table(3)
    for i in range(3):
        stubber.add_response("put_record", {}, _expect(f"R{i}", table))
    ingestor = _ingestor(client)
    ingestor.put_table(table)
    ingestor.close()
    assert (ingestor.stats.put, ingestor.stats.failed, ingestor.stats.retries) == (3, 0, 0)
    assert [v["FeatureName"] for v in to_record(table.to_pylist()[0])] == list(FEATURE_NAMES)
    assert json.loads(to_record(table.to_pylist()[0])[4]["ValueAsString"]) == [0, 5, 2]


def test_throttling_is_retried_with_exponential_backoff(client):
    client, stubber = client
    table = _table(1)
    for code in ("ThrottlingException", "ServiceUnavailable", "ThrottlingException"):
        stubber.add_client_error("put_record", service_error_code=code, http_status_code=400)
    stubber.add_response("put_record", {}, _expect("R0", table))
    sleeps = Sleeps()
    ingestor = _ingestor(client, sleeps)
    ingestor.put_table(table)
    assert (ingestor.stats.put, ingestor.stats.failed, ingestor.stats.retries) == (1, 0, 3)
    # base 0.5 s doubled per retry, with jitter in [50%, 100%]
    for sleep, ceiling in zip(sleeps, (0.5, 1.0, 2.0), strict=True):
        assert ceiling / 2 <= sleep <= ceiling


def test_a_record_still_throttled_after_the_last_attempt_is_counted_failed(client):
    client, stubber = client
    table = _table(200)
    for _ in range(4):
        stubber.add_client_error("put_record", service_error_code="ThrottlingException", http_status_code=400)
    for _ in range(199):
        stubber.add_response("put_record", {})
    ingestor = _ingestor(client, max_failure_rate=0.01)
    ingestor.put_table(table)  # 1 of 200 failed: within 1%
    assert (ingestor.stats.put, ingestor.stats.failed, ingestor.stats.retries) == (199, 1, 3)
    assert ingestor.stats.errors == {"ThrottlingException": 1}


def test_errors_that_retrying_cannot_fix_are_not_retried(client):
    client, stubber = client
    stubber.add_client_error("put_record", service_error_code="ValidationError", http_status_code=400)
    ingestor = _ingestor(client, max_failure_rate=1.0)
    ingestor.put_table(_table(1))
    assert (ingestor.stats.failed, ingestor.stats.retries, dict(ingestor.stats.errors)) == (
        1,
        0,
        {"ValidationError": 1},
    )


def test_failures_beyond_the_threshold_fail_the_job_with_the_counts(client):
    client, stubber = client
    stubber.add_client_error("put_record", service_error_code="ValidationError", http_status_code=400)
    stubber.add_client_error("put_record", service_error_code="ValidationError", http_status_code=400)
    for _ in range(98):
        stubber.add_response("put_record", {})
    ingestor = _ingestor(client, max_failure_rate=0.01)
    with pytest.raises(FeatureStoreError, match=r"2 of 100 records failed, more than 1\.00%.*ValidationError"):
        ingestor.put_table(_table(100))


def test_a_missing_feature_group_or_permission_fails_at_once(client):
    client, stubber = client
    stubber.add_client_error("put_record", service_error_code="ResourceNotFound", http_status_code=404)
    ingestor = _ingestor(client, max_failure_rate=1.0)
    with pytest.raises(FeatureStoreError, match="ResourceNotFound"):
        ingestor.put_table(_table(1))


def test_the_client_is_created_on_first_use_only(client):
    created = []
    ingestor = Ingestor(IngestSettings(GROUP), client_factory=lambda n: created.append(n) or client[0])
    assert created == []
    client[1].add_response("put_record", {})
    ingestor.put_table(_table(1))
    ingestor.put_table(_table(0))
    assert created == [8]  # once, with a connection pool as large as the concurrency


def test_no_more_calls_are_in_flight_than_the_concurrency():
    lock, in_flight, peak = threading.Lock(), [0], [0]
    release = threading.Event()

    class Client:
        def put_record(self, **_):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
                if peak[0] >= 3:
                    release.set()
            release.wait(timeout=5)  # hold every call until three overlap, to prove they can
            with lock:
                in_flight[0] -= 1

    ingestor = Ingestor(IngestSettings(GROUP, concurrency=3), client_factory=lambda _: Client())
    ingestor.put_table(_table(50))
    ingestor.close()
    assert peak[0] == 3 and ingestor.stats.put == 50


def _boto3_gives(monkeypatch, client) -> list[tuple]:
    """boto3.client returns the stubbed client; the calls made are recorded."""
    calls = []

    def fake_client(service, config):
        calls.append((service, config.retries, config.max_pool_connections))
        return client

    monkeypatch.setattr(boto3, "client", fake_client)
    return calls


def test_the_job_ingests_what_it_writes_and_reports_it(tmp_path, tiny_roberta, monkeypatch, client):
    client, stubber = client
    for _ in range(2010):  # the sample's balanced row count
        stubber.add_response("put_record", {})
    calls = _boto3_gives(monkeypatch, client)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / SAMPLE_DATA.name).symlink_to(SAMPLE_DATA)
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--feature-group-name", GROUP)
    written = sum(len(t) for t in read_all(tmp_path / "out").values())
    assert report["feature_store"] == {"feature_group": GROUP, "put": written, "failed": 0, "retries": 0, "errors": {}}
    # One client, with botocore's retries off (ours are counted) and a pool per concurrent call.
    assert calls == [("sagemaker-featurestore-runtime", {"total_max_attempts": 1}, 8)]


def test_the_job_stops_at_the_first_batch_beyond_the_threshold_and_still_writes_its_report(
    tmp_path, tiny_roberta, monkeypatch
):
    client = boto3.client(
        "sagemaker-featurestore-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(client)
    for _ in range(2010):  # enough for every record; the job must stop long before
        stubber.add_client_error("put_record", service_error_code="ValidationError", http_status_code=400)
    stubber.activate()
    _boto3_gives(monkeypatch, client)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / SAMPLE_DATA.name).symlink_to(SAMPLE_DATA)
    with pytest.raises(SystemExit, match="feature group 'reviews-dev'"):
        run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--feature-group-name", GROUP, "--chunk-size", "500")
    report = read_report(tmp_path / "out")
    assert 0 < report["feature_store"]["failed"] == report["rows"]["written"] <= 500
    assert "ValidationError" in report["error"]
