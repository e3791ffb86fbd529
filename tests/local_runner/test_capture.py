"""The capture router and writer against a stub model server: forwarding, the capture format,
sampling, and what is not captured (model errors, pings, an unreachable server)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local_runner.capture import (
    INFERENCE_ID_HEADER,
    CaptureRouter,
    CaptureWriter,
    capture_files,
    capture_record,
    encoding_for,
)
from ml_code.monitoring.record_preprocessor import record_texts

MOMENT = datetime(2026, 12, 2, 3, 4, 5, 678000, tzinfo=UTC)
ANSWER = [
    {
        "label": "positive",
        "sentiment": 2,
        "score": 0.9,
        "num_tokens": 5,
        "truncated": False,
        "probabilities": {"negative": 0.05, "neutral": 0.05, "positive": 0.9},
    }
]


class _Stub(BaseHTTPRequestHandler):
    """A model server stand-in: 200 with ANSWER, 400 when the body says "bad", echoes what it got."""

    seen: list[dict] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._reply(200, b'{"status": "Healthy"}\n', "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Stub.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if b"bad" in body:
            self._reply(400, b'{"message": "bad request"}', "application/json")
        else:
            self._reply(200, json.dumps(ANSWER).encode(), "application/json", {"X-Custom": "kept"})

    def _reply(self, status, body, content_type, extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _post(url, body: bytes, content_type="application/json", headers=None):
    request = urllib.request.Request(
        url + "/invocations", data=body, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _lines(folder):
    return [json.loads(line) for path in capture_files(folder) for line in path.read_text().split("\n") if line]


def test_an_answered_invocation_is_forwarded_unchanged_and_captured_in_its_hour_folder(stub, tmp_path):
    writer = CaptureWriter(tmp_path, "my-endpoint", clock=lambda: MOMENT)
    body = json.dumps({"inputs": "lovely dress"}).encode()
    with CaptureRouter(stub, writer) as router:
        status, headers, answer = _post(router.url, body, headers={INFERENCE_ID_HEADER: "review-7", "X-Mine": "1"})
    assert (status, answer) == (200, json.dumps(ANSWER).encode())
    assert headers["Content-Type"] == "application/json" and headers["X-Custom"] == "kept"
    forwarded = _Stub.seen[-1]
    assert forwarded["body"] == body and forwarded["path"] == "/invocations"
    sent = {k.lower(): v for k, v in forwarded["headers"].items()}
    assert sent[INFERENCE_ID_HEADER.lower()] == "review-7" and sent["x-mine"] == "1"
    (path,) = capture_files(tmp_path)
    assert path.parent == tmp_path / "my-endpoint" / "AllTraffic" / "2026" / "12" / "02" / "03"
    assert path.suffix == ".jsonl" and len(path.stem) == 36  # <uuid>.jsonl
    (record,) = _lines(tmp_path)
    assert record["captureData"] == {
        "endpointInput": {
            "observedContentType": "application/json",
            "mode": "INPUT",
            "data": body.decode(),
            "encoding": "JSON",
        },
        "endpointOutput": {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": json.dumps(ANSWER),
            "encoding": "JSON",
        },
    }
    metadata = record["eventMetadata"]
    assert metadata["inferenceId"] == "review-7" and metadata["inferenceTime"] == "2026-12-02T03:04:05Z"
    assert len(metadata["eventId"]) == 36 and record["eventVersion"] == "0"
    read = record_texts(record)
    assert read["texts"] == ["lovely dress"] and read["inference_id"] == "review-7"
    assert read["rows"][0]["predicted_label"] == "positive" and read["rows"][0]["review_length"] == 12


def test_model_errors_and_pings_are_forwarded_but_not_captured(stub, tmp_path):
    writer = CaptureWriter(tmp_path, "e", clock=lambda: MOMENT)
    with CaptureRouter(stub, writer) as router:
        status, _, answer = _post(router.url, b'{"inputs": "bad"}')
        with urllib.request.urlopen(router.url + "/ping", timeout=10) as ping:
            assert ping.status == 200 and b"Healthy" in ping.read()
    assert (status, json.loads(answer)) == (400, {"message": "bad request"})
    assert capture_files(tmp_path) == [] and writer.captured == 0


def test_an_unreachable_model_server_is_a_502_and_nothing_is_captured(tmp_path):
    writer = CaptureWriter(tmp_path, "e")
    with CaptureRouter("http://127.0.0.1:9", writer) as router:
        status, _, answer = _post(router.url, b'{"inputs": "x"}')
    assert status == 502 and "unreachable" in json.loads(answer)["message"]
    assert capture_files(tmp_path) == []


def test_sampling_captures_the_given_share_of_invocations(tmp_path):
    draws = iter([0.10, 0.50, 0.29, 0.99])
    writer = CaptureWriter(tmp_path, "e", percentage=30, chance=lambda: next(draws))
    record = capture_record(b"{}", "application/json", b"[]", "application/json", MOMENT)
    written = [writer.write(record, MOMENT) for _ in range(4)]
    assert [w is not None for w in written] == [True, False, True, False]
    assert (writer.captured, writer.not_sampled) == (2, 2)
    assert len(capture_files(tmp_path)) == 1 and len(_lines(tmp_path)) == 2  # one file per hour, appended
    with pytest.raises(ValueError, match="from 0 to 100"):
        CaptureWriter(tmp_path, "e", percentage=101)


def test_records_of_different_hours_go_to_their_own_folders(tmp_path):
    writer = CaptureWriter(tmp_path, "e")
    later = MOMENT.replace(hour=4, minute=0)
    for moment in (MOMENT, later, MOMENT):
        writer.write(capture_record(b"{}", "application/json", b"[]", "application/json", moment), moment)
    hours = sorted(p.parent.relative_to(tmp_path / "e" / "AllTraffic").as_posix() for p in capture_files(tmp_path))
    assert hours == ["2026/12/02/03", "2026/12/02/04"]


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/json", "JSON"),
        ("application/json; charset=utf-8", "JSON"),
        ("application/jsonlines", "JSON"),
        ("text/csv", "CSV"),
        ("application/x-npy", "BASE64"),
        (None, "BASE64"),
    ],
)
def test_bodies_are_text_for_the_capture_header_content_types_and_base64_otherwise(content_type, encoding):
    assert encoding_for(content_type) == encoding
    record = capture_record("héllo".encode(), content_type, b"\xff\x00", "application/octet-stream", MOMENT)
    request, response = record["captureData"]["endpointInput"], record["captureData"]["endpointOutput"]
    assert request["encoding"] == encoding
    assert request["data"] == ("héllo" if encoding != "BASE64" else base64.b64encode("héllo".encode()).decode())
    assert response == {
        "observedContentType": "application/octet-stream",
        "mode": "OUTPUT",
        "data": base64.b64encode(b"\xff\x00").decode(),
        "encoding": "BASE64",
    }
    assert "inferenceId" not in record["eventMetadata"]  # only when the caller gave one


def test_variant_and_capture_content_types_match_the_endpoint_construct():
    from infra.constructs import sentiment_endpoint
    from local_runner import capture

    assert capture.VARIANT == sentiment_endpoint.VARIANT
    assert list(capture.JSON_CONTENT_TYPES) == sentiment_endpoint.JSON_CONTENT_TYPES
    assert list(capture.CSV_CONTENT_TYPES) == sentiment_endpoint.CSV_CONTENT_TYPES
