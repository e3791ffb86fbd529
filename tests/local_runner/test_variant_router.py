"""The champion/challenger router against stub model servers: shadow answers with the champion
alone whatever the challenger does, mirrors a deterministic share, A/B routes by share and names
the variant, and each variant's capture lands in its own folder with the request's inference id."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local_runner.capture import INFERENCE_ID_HEADER, CaptureWriter, capture_files
from local_runner.variant_router import (
    CHALLENGER,
    CHAMPION,
    GENERATED_ID_PREFIX,
    INVOKED_VARIANT_HEADER,
    VariantRouter,
    share_point,
    to_challenger,
)
from ml_code.monitoring.record_preprocessor import record_texts

MOMENT = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)
ENDPOINT = "e"


LABELS = {"champion": "positive", "challenger": "negative"}  # each stub answers its own label


def _answer(name: str) -> bytes:
    label = LABELS[name]
    probabilities = {"negative": 0.1, "neutral": 0.1, "positive": 0.1, label: 0.8}
    answer = {"label": label, "score": 0.8, "num_tokens": 5, "truncated": False, "probabilities": probabilities}
    return json.dumps([answer]).encode()


class _Model(BaseHTTPRequestHandler):
    """A model server stand-in; the server's ``behaviour``: ok, fail (500) or slow (sleeps)."""

    server: _ModelServer

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._reply(200, json.dumps({"status": "Healthy", "who": self.server.name}).encode())

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append({"headers": dict(self.headers), "body": body})
        if self.server.behaviour == "slow":
            time.sleep(self.server.delay)
        if self.server.behaviour == "fail":
            self._reply(500, b'{"message": "challenger broke"}')
        else:
            self._reply(200, _answer(self.server.name))

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Model", self.server.name)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the router gave up waiting (the timeout test)
            self.wfile.write(body)


class _ModelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str, behaviour: str = "ok", delay: float = 0.0):
        self.name, self.behaviour, self.delay = name, behaviour, delay
        self.seen: list[dict] = []
        super().__init__(("127.0.0.1", 0), _Model)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def models():
    """Start stub servers by name: models("champion"), models("challenger", "fail")."""
    started: list[_ModelServer] = []

    def start(name: str, behaviour: str = "ok", delay: float = 0.0) -> _ModelServer:
        server = _ModelServer(name, behaviour, delay)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _writers(tmp_path, percentage: float = 100, chance=None) -> dict[str, CaptureWriter]:
    extra = {"chance": chance} if chance else {}
    return {
        variant: CaptureWriter(tmp_path, ENDPOINT, variant, percentage=percentage, clock=lambda: MOMENT, **extra)
        for variant in (CHAMPION, CHALLENGER)
    }


def _post(url: str, text: str, inference_id: str | None = None):
    headers = {"Content-Type": "application/json", **({INFERENCE_ID_HEADER: inference_id} if inference_id else {})}
    body = json.dumps({"inputs": text}).encode()
    request = urllib.request.Request(url + "/invocations", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _records(folder) -> list[dict]:
    return [json.loads(line) for path in capture_files(folder) for line in path.read_text().split("\n") if line]


def _ids(folder) -> list[str | None]:
    return [r["eventMetadata"].get("inferenceId") for r in _records(folder)]


def test_shadow_answers_with_the_champion_and_captures_both_with_the_same_inference_id(models, tmp_path):
    champion, challenger = models("champion"), models("challenger")
    writers = _writers(tmp_path)
    with VariantRouter(champion.url, challenger.url, "shadow", 100, writers) as router:
        status, headers, body = _post(router.url, "lovely dress", "review-7")
        assert router.wait_for_mirrors(10)
    assert (status, body) == (200, _answer("champion"))
    assert headers[INVOKED_VARIANT_HEADER] == CHAMPION and headers["X-Model"] == "champion"
    assert challenger.seen[0]["body"] == champion.seen[0]["body"] == b'{"inputs": "lovely dress"}'
    sent = {k.lower(): v for k, v in challenger.seen[0]["headers"].items()}
    assert sent[INFERENCE_ID_HEADER.lower()] == "review-7"  # forwarded unchanged
    for variant, label in ((CHAMPION, "champion"), (CHALLENGER, "challenger")):
        folder = tmp_path / ENDPOINT / variant
        (record,) = _records(folder)
        assert {p.parent for p in capture_files(folder)} == {folder / "2026" / "12" / "02" / "03"}
        assert record["eventMetadata"]["inferenceId"] == "review-7"
        assert record["eventMetadata"]["inferenceTime"] == "2026-12-02T03:04:05Z"
        read = record_texts(record)  # what the monitoring and comparison jobs read back
        assert read["texts"] == ["lovely dress"] and read["rows"][0]["predicted_label"] == LABELS[label]
    assert router.counts["mirrored"] == 1 and router.counts[f"answered:{CHALLENGER}"] == 1


@pytest.mark.parametrize("behaviour", ["fail", "down"])
def test_shadow_never_lets_a_failing_or_missing_challenger_reach_the_caller(models, tmp_path, behaviour):
    champion = models("champion")
    challenger_url = models("challenger", "fail").url if behaviour == "fail" else "http://127.0.0.1:9"
    writers = _writers(tmp_path)
    with VariantRouter(champion.url, challenger_url, "shadow", 100, writers) as router:
        answers = [_post(router.url, f"text {n}", f"id-{n}") for n in range(5)]
        assert router.wait_for_mirrors(10)
    assert all(a[0] == 200 and a[2] == _answer("champion") for a in answers)
    assert all(a[1][INVOKED_VARIANT_HEADER] == CHAMPION for a in answers)
    counted = router.counts[f"errors:{CHALLENGER}"] if behaviour == "fail" else router.counts["challenger_unreachable"]
    assert counted == 5 and router.counts[f"answered:{CHAMPION}"] == 5
    assert len(_records(tmp_path / ENDPOINT / CHAMPION)) == 5
    assert not (tmp_path / ENDPOINT / CHALLENGER).exists()  # errors are not captured
    assert "error(s)" in router.summary()


def test_shadow_does_not_wait_for_a_slow_challenger_and_counts_its_timeouts(models, tmp_path):
    champion, challenger = models("champion"), models("challenger", "slow", delay=2.0)
    router = VariantRouter(champion.url, challenger.url, "shadow", 100, _writers(tmp_path), challenger_timeout=0.5)
    with router:
        started = time.monotonic()
        answers = [_post(router.url, f"text {n}", f"id-{n}") for n in range(3)]
        elapsed = time.monotonic() - started
        assert router.wait_for_mirrors(10)
    assert elapsed < 1.0, f"the caller waited {elapsed:.2f} s for a challenger that takes 2 s"
    assert all(a[2] == _answer("champion") for a in answers)
    assert router.counts["challenger_timeouts"] == 3 and router.counts[f"answered:{CHALLENGER}"] == 0
    assert len(_records(tmp_path / ENDPOINT / CHAMPION)) == 3


def test_shadow_drops_mirrors_beyond_the_in_flight_limit_instead_of_queueing(models, tmp_path):
    champion, challenger = models("champion"), models("challenger", "slow", delay=1.0)
    with VariantRouter(champion.url, challenger.url, "shadow", 100, None, max_in_flight=2) as router:
        for n in range(4):
            assert _post(router.url, "x", f"id-{n}")[0] == 200
        assert router.wait_for_mirrors(10)
    assert (router.counts["mirrored"], router.counts["mirror_dropped"]) == (2, 2)


def test_shadow_mirrors_the_share_picked_by_the_inference_id_hash(models, tmp_path):
    champion, challenger = models("champion"), models("challenger")
    ids = [f"review-{n}" for n in range(300)]
    with VariantRouter(champion.url, challenger.url, "shadow", 20, _writers(tmp_path)) as router:
        for inference_id in ids:
            _post(router.url, "fine", inference_id)
        assert router.wait_for_mirrors(10)
    expected = {i for i in ids if to_challenger(i, 20)}
    assert set(_ids(tmp_path / ENDPOINT / CHALLENGER)) == expected  # deterministic: the same ids every time
    assert 0.13 <= len(expected) / len(ids) <= 0.27
    assert sorted(_ids(tmp_path / ENDPOINT / CHAMPION)) == sorted(ids)  # the champion sees everything
    assert router.counts["mirrored"] + router.counts["not_mirrored"] == len(ids) == len(champion.seen)
    assert len(challenger.seen) == len(expected)


def test_the_share_hash_spreads_evenly_and_0_and_100_mean_none_and_all():
    keys = [f"k{n}" for n in range(20000)]
    assert all(0 <= share_point(k) < 100 for k in keys[:100])
    for percent in (5, 10, 50):
        share = sum(to_challenger(k, percent) for k in keys) / len(keys)
        assert abs(share - percent / 100) < 0.015
    assert not any(to_challenger(k, 0) for k in keys) and all(to_challenger(k, 100) for k in keys)


def test_shadow_without_an_inference_id_generates_one_for_both_records(models, tmp_path):
    champion, challenger = models("champion"), models("challenger")
    with VariantRouter(champion.url, challenger.url, "shadow", 100, _writers(tmp_path)) as router:
        for _ in range(3):
            assert _post(router.url, "no id")[0] == 200
        assert router.wait_for_mirrors(10)
    champion_ids = _ids(tmp_path / ENDPOINT / CHAMPION)
    assert sorted(champion_ids) == sorted(_ids(tmp_path / ENDPOINT / CHALLENGER))
    assert len(set(champion_ids)) == 3 and all(i.startswith(GENERATED_ID_PREFIX) for i in champion_ids)
    assert router.counts["generated_ids"] == 3


def test_capture_sampling_is_decided_once_per_request_for_both_variants(models, tmp_path):
    champion, challenger = models("champion"), models("challenger")
    draws = iter([0.1, 0.9, 0.2, 0.8])
    writers = _writers(tmp_path, percentage=50, chance=lambda: next(draws))
    with VariantRouter(champion.url, challenger.url, "shadow", 100, writers) as router:
        for n in range(4):
            _post(router.url, "x", f"id-{n}")
        assert router.wait_for_mirrors(10)
    assert _ids(tmp_path / ENDPOINT / CHAMPION) == ["id-0", "id-2"]
    assert sorted(_ids(tmp_path / ENDPOINT / CHALLENGER)) == ["id-0", "id-2"]


def test_ab_routes_the_share_to_the_challenger_names_the_variant_and_captures_it_there(models, tmp_path):
    champion, challenger = models("champion"), models("challenger")
    ids = [f"review-{n}" for n in range(200)]
    with VariantRouter(champion.url, challenger.url, "ab", 30, _writers(tmp_path)) as router:
        answers = {i: _post(router.url, "fine", i) for i in ids}
    to_challenger_ids = {i for i in ids if to_challenger(i, 30)}
    assert 0.2 <= len(to_challenger_ids) / len(ids) <= 0.4
    for inference_id, (status, headers, body) in answers.items():
        variant = CHALLENGER if inference_id in to_challenger_ids else CHAMPION
        assert status == 200 and headers[INVOKED_VARIANT_HEADER] == variant
        assert body == _answer("challenger" if variant == CHALLENGER else "champion")
    assert set(_ids(tmp_path / ENDPOINT / CHALLENGER)) == to_challenger_ids
    assert set(_ids(tmp_path / ENDPOINT / CHAMPION)) == set(ids) - to_challenger_ids
    assert len(challenger.seen) == len(to_challenger_ids) and len(champion.seen) == len(ids) - len(to_challenger_ids)
    assert router.counts[f"routed:{CHALLENGER}"] == len(to_challenger_ids)


def test_ab_without_inference_ids_routes_by_a_counter_and_records_no_id(models, tmp_path):
    champion, challenger = models("champion"), models("challenger")
    with VariantRouter(champion.url, challenger.url, "ab", 50, _writers(tmp_path)) as router:
        variants = [_post(router.url, "x")[1][INVOKED_VARIANT_HEADER] for _ in range(40)]
    expected = [CHALLENGER if to_challenger(f"#{n}", 50) else CHAMPION for n in range(40)]
    assert variants == expected and set(variants) == {CHAMPION, CHALLENGER}
    records = _records(tmp_path)
    assert len(records) == 40 and all("inferenceId" not in r["eventMetadata"] for r in records)
    assert router.counts["generated_ids"] == 0


def test_ab_forwards_a_variants_model_error_and_does_not_capture_it(models, tmp_path):
    champion, challenger = models("champion"), models("challenger", "fail")
    with VariantRouter(champion.url, challenger.url, "ab", 100, _writers(tmp_path)) as router:
        status, headers, body = _post(router.url, "x", "id-1")
    assert status == 500 and headers[INVOKED_VARIANT_HEADER] == CHALLENGER
    assert json.loads(body) == {"message": "challenger broke"} and capture_files(tmp_path) == []


def test_ping_goes_to_the_champion(models):
    champion, challenger = models("champion"), models("challenger")
    router = VariantRouter(champion.url, challenger.url, "shadow", 100)
    with router, urllib.request.urlopen(router.url + "/ping", timeout=10) as ping:
        assert json.loads(ping.read())["who"] == "champion"
    assert challenger.seen == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "canary"}, "mode must be one of shadow, ab"),
        ({"percent": 101}, "from 0 to 100"),
        ({"writers": {CHAMPION: None}}, "missing Challenger"),
    ],
)
def test_bad_router_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VariantRouter("http://127.0.0.1:1", "http://127.0.0.1:2", **kwargs)
