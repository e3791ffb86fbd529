"""Endpoint data capture on this machine: a router in front of the local model server.

A SageMaker endpoint with data capture on writes what it receives and answers to S3; the
monitoring job (ml_code/monitor.py) reads it from there. Locally, ``CaptureRouter`` listens
on 127.0.0.1, forwards ``GET /ping`` and ``POST /invocations`` to the toolkit server
(tools/serve.py) unchanged (headers, status, body) and, for each invocation the model
answers with 2xx, appends one record to a JSON Lines file in SageMaker's layout:

    <capture dir>/<endpoint name>/<variant>/yyyy/mm/dd/hh/<uuid>.jsonl    (UTC hour of the request)

    {"captureData": {"endpointInput":  {"observedContentType": ..., "mode": "INPUT",  "data": ..., "encoding": ...},
                     "endpointOutput": {"observedContentType": ..., "mode": "OUTPUT", "data": ..., "encoding": ...}},
     "eventMetadata": {"eventId": <uuid4>, "inferenceId": <X-Amzn-SageMaker-Inference-Id>, "inferenceTime": ...},
     "eventVersion": "0"}

As on SageMaker: a sampling percentage decides per invocation whether it is captured, model
errors (4xx/5xx) are forwarded but not captured, and bodies of the content types the
endpoint's capture header lists are stored as text (encoding JSON or CSV), any other as
BASE64. The record is written before the answer is returned, so a caller that got its
answer finds the record on disk.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

HOST = "127.0.0.1"
# The endpoint's variant and the capture content type header: infra/constructs/sentiment_endpoint.py
# (VARIANT, JSON_CONTENT_TYPES, CSV_CONTENT_TYPES); tests/local_runner keeps them equal. Not
# imported: that module loads the CDK (a Node.js process) for three strings.
VARIANT = "AllTraffic"
JSON_CONTENT_TYPES = ("application/json", "application/jsonlines")
CSV_CONTENT_TYPES = ("text/csv",)
INFERENCE_ID_HEADER = "X-Amzn-SageMaker-Inference-Id"
# Headers that belong to one connection, not to the request or answer (RFC 9110 7.6.1).
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    )
)
UPSTREAM_TIMEOUT = 120


def media_type(header: str | None) -> str:
    return str(header or "").split(";")[0].strip().lower()


def encoding_for(content_type: str | None) -> str:
    kind = media_type(content_type)
    if kind in JSON_CONTENT_TYPES:
        return "JSON"
    if kind in CSV_CONTENT_TYPES:
        return "CSV"
    return "BASE64"


def _event_data(body: bytes, content_type: str | None, mode: str) -> dict:
    encoding = encoding_for(content_type)
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type or "", "mode": mode, "data": data, "encoding": encoding}


def inference_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_record(
    request: bytes,
    request_type: str | None,
    response: bytes,
    response_type: str | None,
    moment: datetime,
    inference_id: str | None = None,
    event_id: str | None = None,
) -> dict:
    """One line of a capture file, as SageMaker writes it."""
    metadata = {"eventId": event_id or str(uuid.uuid4())}
    if inference_id:
        metadata["inferenceId"] = inference_id
    metadata["inferenceTime"] = inference_time(moment)
    return {
        "captureData": {
            "endpointInput": _event_data(request, request_type, "INPUT"),
            "endpointOutput": _event_data(response, response_type, "OUTPUT"),
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


class CaptureWriter:
    """Appends capture records under ``<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/``, one file per hour."""

    def __init__(
        self,
        root: Path,
        endpoint_name: str,
        variant: str = VARIANT,
        percentage: float = 100,
        clock: Callable[[], datetime] | None = None,
        chance: Callable[[], float] = random.random,
    ):
        if not 0 <= percentage <= 100:
            raise ValueError(f"sampling percentage must be from 0 to 100, got {percentage}")
        self.folder = Path(root) / endpoint_name / variant
        self.percentage = percentage
        self.clock = clock or (lambda: datetime.now(UTC))
        self.chance = chance
        self._files: dict[str, Path] = {}
        self._lock = threading.Lock()
        self.captured = 0
        self.not_sampled = 0

    def now(self) -> datetime:
        return self.clock()

    def sampled(self) -> bool:
        return self.percentage >= 100 or self.chance() * 100 < self.percentage

    def file_for(self, moment: datetime) -> Path:
        hour = moment.astimezone(UTC).strftime("%Y/%m/%d/%H")
        if hour not in self._files:
            self._files[hour] = self.folder / hour / f"{uuid.uuid4()}.jsonl"
        return self._files[hour]

    def write(self, record: dict, moment: datetime, sampled: bool | None = None) -> Path | None:
        """Append ``record`` (when this invocation is sampled); returns the file, or None.
        ``sampled``: a decision taken already (one per request for records of two variants)."""
        with self._lock:
            if not (self.sampled() if sampled is None else sampled):
                self.not_sampled += 1
                return None
            path = self.file_for(moment)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.captured += 1
            return path


Answer = tuple[int, http.client.HTTPMessage | dict[str, str], bytes]  # status, headers, body


def forward(
    upstream: SplitResult, method: str, path: str, headers, body: bytes, timeout: float = UPSTREAM_TIMEOUT
) -> Answer:
    """One request to ``upstream`` with the caller's end-to-end headers; OSError (a timeout
    included) when it cannot be connected to or does not answer in time."""
    sent = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
    connection = http.client.HTTPConnection(upstream.hostname or HOST, upstream.port, timeout=timeout)
    try:
        connection.request(method, path, body=body if method == "POST" else None, headers=sent)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def unreachable(message: str) -> Answer:
    return 502, {"Content-Type": "application/json"}, json.dumps({"message": message}).encode()


CHUNKED_REFUSAL = b'{"message": "send a Content-Length (the SageMaker runtime requires one)"}'


def is_chunked(handler: BaseHTTPRequestHandler) -> bool:
    """A chunked request body, which the SageMaker runtime refuses too (411)."""
    return "chunked" in handler.headers.get("Transfer-Encoding", "").lower()


def send_answer(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, headers=None, extra: dict[str, str] | None = None
) -> None:
    """The upstream's answer to the caller: its headers but hop-by-hop ones (and those ``extra``
    replaces), a fresh Content-Length, and the connection closed after it."""
    replaced = {key.lower() for key in extra or {}}
    handler.send_response_only(status)
    for key, value in (headers or {}).items():
        if key.lower() not in HOP_BY_HOP and key.lower() not in replaced:
            handler.send_header(key, value)
    for key, value in (extra or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(BaseHTTPRequestHandler):
    server: _RouterServer
    server_version = "local-capture-router"

    def log_message(self, format, *args):
        pass  # the model server logs every request already

    def do_GET(self):
        status, headers, answer = self._forward(b"")
        self._answer(status, answer, headers)

    def do_POST(self):
        if is_chunked(self):
            self._answer(411, CHUNKED_REFUSAL)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        writer = self.server.writer
        moment = writer.now() if writer is not None else None
        status, headers, answer = self._forward(body)
        if (
            writer is not None
            and moment is not None
            and self.path.split("?")[0] == "/invocations"
            and 200 <= status < 300
        ):
            record = capture_record(
                body,
                self.headers.get("Content-Type"),
                answer,
                headers.get("Content-Type"),
                moment,
                inference_id=self.headers.get(INFERENCE_ID_HEADER),
            )
            writer.write(record, moment)
        self._answer(status, answer, headers)

    def _forward(self, body: bytes) -> tuple[int, http.client.HTTPMessage | dict[str, str], bytes]:
        try:
            return forward(self.server.upstream, self.command, self.path, self.headers.items(), body)
        except OSError as error:
            return unreachable(f"local capture router: model server unreachable: {error}")

    def _answer(self, status: int, body: bytes, headers=None) -> None:
        send_answer(self, status, body, headers)


class _RouterServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, upstream: str, writer: CaptureWriter | None):
        self.upstream = urlsplit(upstream)
        if not self.upstream.hostname:
            raise ValueError(f"upstream {upstream!r} is not a URL with a host")
        self.upstream_host: str = self.upstream.hostname
        self.writer = writer
        super().__init__(address, _Handler)


class CaptureRouter:
    """Forwards to ``upstream`` (the toolkit server's URL) and captures through ``writer``.

    ``port`` 0: the kernel picks one (this server is Python, not the model server's Java,
    which refuses ports from 32767 up). ``stop`` closes the socket and joins the thread."""

    def __init__(self, upstream: str, writer: CaptureWriter | None, port: int = 0, host: str = HOST):
        self.upstream, self.writer, self.address = upstream, writer, (host, port)
        self._server: _RouterServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.port}"

    def start(self) -> CaptureRouter:
        self._server = _RouterServer(self.address, self.upstream, self.writer)
        self.address = (self.address[0], self._server.server_address[1])  # the port it got, kept after stop
        self._thread = threading.Thread(target=self._server.serve_forever, name="capture-router", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None

    def __enter__(self) -> CaptureRouter:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def capture_files(folder: Path) -> list[Path]:
    """Every capture file under ``folder`` (any level of the layout), sorted."""
    return sorted(Path(folder).rglob("*.jsonl"))
