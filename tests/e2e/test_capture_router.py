"""Data capture in front of the real serving stack (SageMaker's HF toolkit + multi-model-server):
callers get exactly the model's answer, answered invocations land in SageMaker's capture layout
and read back through the monitoring code; `serve --capture-dir` wires it up and stops cleanly."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from local_runner.capture import INFERENCE_ID_HEADER, CaptureRouter, CaptureWriter, capture_files
from local_runner.cli import main
from local_runner.registry import LocalRegistry
from ml_code.monitoring.record_preprocessor import FEATURES, record_texts
from tests.ml_code.capture_records import analyze
from tests.ml_code.inference_cases import BAD, GOOD, ids
from tests.ml_code.training_fixtures import trained_run

ENDPOINT = "roberta-sentiment-dev-sentiment"
MOMENT = datetime(2026, 12, 2, 10, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def routed(server, tmp_path_factory):
    """(router, writer, capture dir) in front of the session's server, clock fixed at MOMENT."""
    folder = tmp_path_factory.mktemp("capture")
    writer = CaptureWriter(folder, ENDPOINT, clock=lambda: MOMENT)
    with CaptureRouter(server.url, writer) as router:
        yield router, writer, folder


def _post(url: str, body: bytes, content_type: str, accept: str | None = None, headers: dict | None = None):
    sent = {"Content-Type": content_type, **({"Accept": accept} if accept else {}), **(headers or {})}
    request = urllib.request.Request(url + "/invocations", data=body, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def _lines(folder) -> list[str]:
    # "\n" only: str.splitlines would also cut at U+2028, which a captured text may hold.
    return [line for path in capture_files(folder) for line in path.read_text(encoding="utf-8").split("\n") if line]


def _records(folder) -> list[dict]:
    return [json.loads(line) for line in _lines(folder)]


def _by_inference_id(folder, inference_id: str) -> dict:
    (record,) = [r for r in _records(folder) if r["eventMetadata"].get("inferenceId") == inference_id]
    return record


@pytest.mark.parametrize("case", GOOD, ids=ids(GOOD))
def test_the_caller_gets_exactly_the_models_answer_and_it_is_captured(server, routed, case):
    router, _, folder = routed
    direct = _post(server.url, case.body, case.content_type, case.accept)
    inference_id = f"id-{case.id}"
    through = _post(router.url, case.body, case.content_type, case.accept, {INFERENCE_ID_HEADER: inference_id})
    assert through == direct and through[0] == 200
    record = _by_inference_id(folder, inference_id)
    request, response = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert (request["mode"], response["mode"]) == ("INPUT", "OUTPUT")
    assert request["observedContentType"] == case.content_type and response["observedContentType"] == through[1]
    kind = case.content_type.split(";")[0]
    expected = {"application/json": "JSON", "application/jsonlines": "JSON", "text/csv": "CSV"}.get(kind, "BASE64")
    assert request["encoding"] == expected
    if expected != "BASE64":
        assert request["data"] == case.body.decode()
    read = record_texts(record)  # what ml_code/monitor.py reads back
    assert read["texts"] == case.expected and read["inference_id"] == inference_id
    assert read["inference_time"] == "2026-12-02T10:15:30Z" and len(read["rows"]) == len(case.expected)
    assert all(set(row) == set(FEATURES) for row in read["rows"])


def test_capture_files_sit_in_the_endpoints_variant_and_utc_hour_folder(routed):
    router, _, folder = routed
    assert _post(router.url, json.dumps({"inputs": "nice"}).encode(), "application/json")[0] == 200
    files = capture_files(folder)
    assert files and {p.parent for p in files} == {folder / ENDPOINT / "AllTraffic" / "2026" / "12" / "02" / "10"}
    for record in _records(folder):
        assert set(record) == {"captureData", "eventMetadata", "eventVersion"} and record["eventVersion"] == "0"
        assert {"eventId", "inferenceTime"} <= set(record["eventMetadata"])
    rows = analyze(_lines(folder))  # Model Monitor's analyzer replay: the record preprocessor as a script
    assert all(rows) and all(set(row) == set(FEATURES) for per_line in rows for row in per_line)


@pytest.mark.parametrize("case", BAD, ids=ids(BAD))
def test_model_errors_are_forwarded_unchanged_and_not_captured(server, routed, case):
    router, writer, _ = routed
    before = writer.captured
    through = _post(router.url, case.body, case.content_type, case.accept)
    assert through == _post(server.url, case.body, case.content_type, case.accept) and through[0] == 400
    assert writer.captured == before


def test_ping_is_forwarded(routed):
    router, writer, _ = routed
    before = writer.captured
    with urllib.request.urlopen(routed[0].url + "/ping", timeout=10) as response:
        assert response.status == 200
    assert writer.captured == before


def test_serve_with_capture_dir_classifies_through_the_router_and_stops_everything(
    tmp_path, tmp_path_factory, tiny_roberta, capsys
):
    trained = trained_run(tmp_path_factory, tiny_roberta)
    registry = LocalRegistry(tmp_path / "registry")
    package = {
        "ModelPackageGroupName": "g",
        "ModelApprovalStatus": "Approved",
        "Local": {"ModelData": [str(trained / "model.tar.gz")]},
    }
    registry.register(package, {}, "us-east-1", "000000000000")
    code = main(
        [
            "serve",
            "--root",
            str(tmp_path),
            "--capture-dir",
            str(tmp_path / "capture"),
            "--review",
            "Lovely dress",
            "--review",
            "Awful seams",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "data capture on:" in out and "captured 1 invocation(s) (0 not sampled)" in out
    assert "server stopped (its whole process group)" in out  # LocalServer.stop raises if anything survived
    (record,) = _records(tmp_path / "capture" / ENDPOINT)
    assert record_texts(record)["texts"] == ["Lovely dress", "Awful seams"]


def test_serve_with_capture_dir_until_sigterm_stops_the_router_and_the_model_server(
    tmp_path, tmp_path_factory, tiny_roberta
):
    import os
    import re
    import signal
    import socket
    import subprocess
    import sys
    import time

    from tools.serve import free_port

    trained = trained_run(tmp_path_factory, tiny_roberta)
    registry = LocalRegistry(tmp_path / "registry")
    package = {
        "ModelPackageGroupName": "g",
        "ModelApprovalStatus": "Approved",
        "Local": {"ModelData": [str(trained / "model.tar.gz")]},
    }
    registry.register(package, {}, "us-east-1", "000000000000")
    port, log = free_port(), tmp_path / "serve.log"
    command = [
        sys.executable,
        "-m",
        "local_runner",
        "serve",
        "--root",
        str(tmp_path),
        "--capture-dir",
        str(tmp_path / "capture"),
        "--port",
        str(port),
    ]
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "serving on" not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert "serving on" in log.read_text(), log.read_text()
        status, _, _ = _post(f"http://127.0.0.1:{port}", b'{"inputs": "fine"}', "application/json")
        assert status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = log.read_text()
    assert "captured 1 invocation(s)" in text and "server stopped (its whole process group)" in text, text
    server_port = int(re.search(r"multi-model-server on 127\.0\.0\.1:(\d+)", text).group(1))
    server_dir = re.search(r"\(log: (\S+)/server\.log\)", text).group(1)
    assert not Path(server_dir).exists()  # removed after a clean stop
    for closed in (port, server_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", closed)) != 0
