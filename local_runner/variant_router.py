"""A champion and a challenger behind one local endpoint: shadow or A/B, with data capture.

The endpoint's challenger (cdk.json ``serving.challenger``) runs as a second production
variant (A/B) or as a shadow variant. Locally, ``VariantRouter`` listens on 127.0.0.1 in
front of two toolkit servers and does what the SageMaker runtime does with them:

shadow  every request goes to the champion (``AllTraffic``), whose answer alone reaches the
        caller; a sampled share (``percent``) is mirrored to the challenger (``Challenger``)
        at the same time, on its own thread: the caller never waits for it, and its errors,
        timeouts or a full mirror queue are counted, never answered.
ab      each request goes to one variant, the challenger for a ``percent`` share; the caller
        gets that variant's answer and ``X-Amzn-Invoked-Production-Variant`` names it.

Both modes set ``X-Amzn-Invoked-Production-Variant`` (shadow: always the champion), as the
runtime's InvokeEndpoint answer does.

Sampling and routing are deterministic: a request is the challenger's when the SHA-256 of its
inference id (``X-Amzn-SageMaker-Inference-Id``) falls in the first ``percent`` of the hash
range, so the same ids always split the same way (SageMaker draws at random by weight).
Without an inference id, shadow mode generates ``local-<uuid4>`` for both of the request's
capture records, so that the comparison can pair them (SageMaker leaves the id out); A/B mode
leaves it out, as SageMaker does, and routes by a request counter.

With writers, each variant's 2xx answers are captured as ``capture.CaptureWriter`` does,
under ``<capture dir>/<endpoint>/<variant>/yyyy/mm/dd/hh/``, both records of a mirrored
request with the request's time and inference id; capture sampling is decided once per
request, so a captured champion record has its challenger twin (when mirrored and answered).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import SplitResult, urlsplit

from local_runner.capture import (
    CHUNKED_REFUSAL,
    HOST,
    INFERENCE_ID_HEADER,
    UPSTREAM_TIMEOUT,
    Answer,
    CaptureWriter,
    capture_record,
    forward,
    is_chunked,
    send_answer,
    unreachable,
)

CHAMPION = "AllTraffic"  # infra/pipeline/compare_definition.py CHAMPION_VARIANT
CHALLENGER = "Challenger"  # ... CHALLENGER_VARIANT
VARIANTS = (CHAMPION, CHALLENGER)
MODES = ("shadow", "ab")
INVOKED_VARIANT_HEADER = "X-Amzn-Invoked-Production-Variant"
GENERATED_ID_PREFIX = "local-"
CHALLENGER_TIMEOUT = 30.0  # seconds a mirrored request may take before it counts as timed out
MAX_MIRRORS_IN_FLIGHT = 16  # beyond this, mirrors are dropped (counted), never queued behind callers


def share_point(key: str) -> float:
    """Where ``key`` falls in [0, 100): the first 8 bytes of its SHA-256, uniformly spread."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def to_challenger(key: str, percent: float) -> bool:
    """Whether the request keyed ``key`` is the challenger's share (mirrored, or routed to it)."""
    return share_point(key) < percent


class _Handler(BaseHTTPRequestHandler):
    server: _VariantServer
    server_version = "local-variant-router"

    def log_message(self, format, *args):
        pass  # the model servers log every request already

    def do_GET(self):
        router = self.server.router
        status, headers, answer = router.call(CHAMPION, self.command, self.path, self.headers.items(), b"")
        self._answer(status, answer, headers, CHAMPION)

    def do_POST(self):
        if is_chunked(self):
            self._answer(411, CHUNKED_REFUSAL)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        router = self.server.router
        if self.path.split("?")[0] != "/invocations":
            status, headers, answer = router.call(CHAMPION, self.command, self.path, self.headers.items(), body)
            self._answer(status, answer, headers, CHAMPION)
            return
        variant, status, headers, answer = router.invoke(self.path, list(self.headers.items()), body)
        self._answer(status, answer, headers, variant)

    def _answer(self, status: int, body: bytes, headers=None, variant: str | None = None) -> None:
        send_answer(self, status, body, headers, {INVOKED_VARIANT_HEADER: variant} if variant is not None else None)


class _VariantServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, router: VariantRouter):
        self.router = router
        super().__init__(address, _Handler)


class VariantRouter:
    """Champion and challenger behind one port (``port`` 0: the kernel picks one).

    ``counts`` (a Counter, read it after ``wait_for_mirrors``): requests, answered:<variant>
    (2xx), errors:<variant> (any other status), routed:<variant> (ab), mirrored, not_mirrored,
    mirror_dropped (MAX_MIRRORS_IN_FLIGHT busy), challenger_timeouts, challenger_unreachable,
    generated_ids."""

    def __init__(
        self,
        champion: str,
        challenger: str,
        mode: str = "shadow",
        percent: float = 10,
        writers: dict[str, CaptureWriter] | None = None,
        port: int = 0,
        host: str = HOST,
        challenger_timeout: float = CHALLENGER_TIMEOUT,
        max_in_flight: int = MAX_MIRRORS_IN_FLIGHT,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not 0 <= percent <= 100:
            raise ValueError(f"challenger percent must be from 0 to 100, got {percent:g}")
        missing = set(VARIANTS) - set(writers or VARIANTS)
        if missing:
            raise ValueError(f"writers needed for both variants, missing {', '.join(sorted(missing))}")
        self.upstreams: dict[str, SplitResult] = {}
        for variant, url in ((CHAMPION, champion), (CHALLENGER, challenger)):
            parsed = urlsplit(url)
            if not parsed.hostname or not parsed.port:
                raise ValueError(f"{variant} upstream {url!r} is not a URL with a host and port")
            self.upstreams[variant] = parsed
        self.mode, self.percent, self.writers = mode, percent, writers
        self.challenger_timeout = challenger_timeout
        self.address = (host, port)
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._counter = itertools.count()
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._mirrors: set[threading.Thread] = set()
        self._server: _VariantServer | None = None
        self._thread: threading.Thread | None = None

    # -- routing --------------------------------------------------------------------------
    def count(self, key: str, by: int = 1) -> None:
        with self._counts_lock:
            self.counts[key] += by

    def call(
        self, variant: str, method: str, path: str, headers, body: bytes, timeout: float = UPSTREAM_TIMEOUT
    ) -> Answer:
        """One request to a variant's server; a 502 answer when it is unreachable."""
        try:
            return forward(self.upstreams[variant], method, path, headers, body, timeout)
        except OSError as error:
            return unreachable(f"local variant router: {variant} model server unreachable: {error}")

    def now(self) -> datetime:
        writer = (self.writers or {}).get(CHAMPION)
        return writer.now() if writer is not None else datetime.now(UTC)

    def invoke(self, path: str, headers: list[tuple[str, str]], body: bytes) -> tuple[str, *Answer]:
        """(variant that answers, status, headers, body) of one invocation, captured and mirrored."""
        self.count("requests")
        moment = self.now()
        given = next((v for k, v in headers if k.lower() == INFERENCE_ID_HEADER.lower()), None)
        inference_id = given
        if self.mode == "shadow" and not inference_id:
            inference_id = f"{GENERATED_ID_PREFIX}{uuid.uuid4()}"
            self.count("generated_ids")
        key = inference_id or f"#{next(self._counter)}"
        challengers_share = to_challenger(key, self.percent)
        sampled = self.writers[CHAMPION].sampled() if self.writers else False
        request_type = next((v for k, v in headers if k.lower() == "content-type"), None)

        def capture(variant: str, status: int, answer_headers, answer: bytes) -> None:
            if self.writers and 200 <= status < 300:
                record = capture_record(
                    body, request_type, answer, answer_headers.get("Content-Type"), moment, inference_id
                )
                self.writers[variant].write(record, moment, sampled=sampled)

        if self.mode == "ab":
            variant = CHALLENGER if challengers_share else CHAMPION
            self.count(f"routed:{variant}")
            status, answer_headers, answer = self.call(variant, "POST", path, headers, body)
            self.count(f"{'answered' if 200 <= status < 300 else 'errors'}:{variant}")
            capture(variant, status, answer_headers, answer)
            return variant, status, answer_headers, answer

        # shadow: the mirror starts first, so both variants see the request at the same moment.
        if not challengers_share:
            self.count("not_mirrored")
        elif not self._slots.acquire(blocking=False):
            self.count("mirror_dropped")
        else:
            self.count("mirrored")
            thread = threading.Thread(
                target=self._mirror, args=(path, headers, body, capture), name="shadow-mirror", daemon=True
            )
            with self._counts_lock:
                self._mirrors.add(thread)
            thread.start()
        status, answer_headers, answer = self.call(CHAMPION, "POST", path, headers, body)
        self.count(f"{'answered' if 200 <= status < 300 else 'errors'}:{CHAMPION}")
        capture(CHAMPION, status, answer_headers, answer)
        return CHAMPION, status, answer_headers, answer

    def _mirror(self, path: str, headers, body: bytes, capture) -> None:
        try:
            status, answer_headers, answer = forward(
                self.upstreams[CHALLENGER], "POST", path, headers, body, self.challenger_timeout
            )
        except TimeoutError:
            self.count("challenger_timeouts")
        except OSError:
            self.count("challenger_unreachable")
        except Exception:  # whatever the challenger does, it never reaches the caller
            self.count(f"errors:{CHALLENGER}")
        else:
            self.count(f"{'answered' if 200 <= status < 300 else 'errors'}:{CHALLENGER}")
            try:
                capture(CHALLENGER, status, answer_headers, answer)
            except OSError:
                self.count("challenger_capture_errors")
        finally:
            self._slots.release()
            with self._counts_lock:
                self._mirrors.discard(threading.current_thread())

    def wait_for_mirrors(self, timeout: float | None = None) -> bool:
        """Wait until every mirrored request has ended (answered, failed or timed out); True if so."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._counts_lock:
                pending = list(self._mirrors)
            if not pending:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            pending[0].join(remaining)

    def summary(self) -> str:
        counts = self.counts
        if self.mode == "ab":
            parts = [
                f"{counts['requests']} request(s): {counts['routed:' + CHAMPION]} to {CHAMPION},"
                f" {counts['routed:' + CHALLENGER]} to {CHALLENGER}"
            ]
        else:
            parts = [
                f"{counts['requests']} request(s) answered by {CHAMPION}; {counts['mirrored']} mirrored to"
                f" {CHALLENGER} ({counts['not_mirrored']} not sampled, {counts['mirror_dropped']} dropped:"
                f" too many in flight)"
            ]
            parts.append(
                f"{CHALLENGER}: {counts['answered:' + CHALLENGER]} answered, {counts['errors:' + CHALLENGER]}"
                f" error(s), {counts['challenger_timeouts']} timeout(s), {counts['challenger_unreachable']}"
                " unreachable (never seen by callers)"
            )
            if counts["generated_ids"]:
                parts.append(f"{counts['generated_ids']} request(s) without an inference id got a local-<uuid>")
        if self.writers:
            parts.append(
                "captured "
                + ", ".join(f"{variant} {writer.captured}" for variant, writer in self.writers.items())
                + f" ({self.writers[CHAMPION].not_sampled} request(s) not sampled)"
            )
        return "; ".join(parts)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.address[1]

    @property
    def url(self) -> str:
        return f"http://{self.address[0]}:{self.port}"

    def start(self) -> VariantRouter:
        self._server = _VariantServer(self.address, self)
        self.address = (self.address[0], self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="variant-router", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, mirror_grace: float = CHALLENGER_TIMEOUT) -> None:
        """Stop taking requests, then let mirrored ones end (up to ``mirror_grace`` s)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self.wait_for_mirrors(mirror_grace)

    def __enter__(self) -> VariantRouter:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
