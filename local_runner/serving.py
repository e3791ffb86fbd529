"""Serve a registered model version through tools/serve.py (SageMaker's Hugging Face inference
toolkit and model server on 127.0.0.1), like an endpoint deployed from the registry would.

With a capture writer, callers talk to a capture router (local_runner/capture.py) in front of
the server, which records every invocation as the endpoint's data capture does. With a
challenger, two servers sit behind a variant router (local_runner/variant_router.py): shadow
or A/B, each variant captured in its own folder.

Only an Approved version is served unless another status is asked for explicitly: that is
what the approval gate means in the real system (the serving side deploys approved packages).
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_runner.capture import CaptureRouter, CaptureWriter
from local_runner.errors import RegistryError
from local_runner.registry import LocalRegistry
from local_runner.step_environment import Console
from local_runner.variant_router import CHALLENGER, CHAMPION, VARIANTS, VariantRouter


def pick_version(registry: LocalRegistry, group: str | None, version: int | None, allow_unapproved: bool) -> dict:
    group = registry.resolve_group(group)
    package = registry.get(group, version) if version is not None else None
    if package is None:
        try:
            package = registry.latest(group, status="Approved")
        except RegistryError:
            if not allow_unapproved:
                latest = registry.latest(group)
                raise RegistryError(
                    f"group {group!r} has no Approved version; approve one first, e.g."
                    f" python -m local_runner approve --version {latest['ModelPackageVersion']}"
                ) from None
            package = registry.latest(group)
    if package["ModelApprovalStatus"] != "Approved" and not allow_unapproved:
        raise RegistryError(
            f"version {package['ModelPackageVersion']} of {group!r} is {package['ModelApprovalStatus']}, not Approved"
            " (approve it with python -m local_runner approve, or pass --allow-unapproved)"
        )
    return package


def model_path(package: dict) -> Path:
    paths = package.get("Local", {}).get("ModelData") or []
    if not paths or not Path(paths[0]).is_file():
        raise RegistryError(
            f"version {package['ModelPackageVersion']}: its model artifact {paths[0] if paths else '?'} is gone"
            " (the run folder that holds the local S3 was deleted?)"
        )
    return Path(paths[0])


@contextmanager
def serving(package: dict, port: int | None, console: Console, capture: CaptureWriter | None = None) -> Iterator[str]:
    """The version's model.tar.gz served on 127.0.0.1 while the block runs; yields the URL callers use.

    With ``capture``: the toolkit server listens on a free port of its own and callers talk to
    the capture router on ``port``, which records every invocation. Leaving the block stops the
    router and the server's whole process group."""
    # tools.serve.free_port stays below 32767: multi-model-server refuses higher ports.
    from tools.serve import LocalServer, free_port

    model = model_path(package)
    # Short path: the model server's Unix sockets live under the run folder (about 100 bytes allowed).
    run_dir = Path(tempfile.mkdtemp(prefix="serve-"))
    server_port = free_port() if capture is not None or not port else port
    console.print(
        f"Serving {package['ModelPackageGroupName']} version {package['ModelPackageVersion']}"
        f" ({package['ModelApprovalStatus']}) from {model}"
    )
    console.print(
        f"  SageMaker Hugging Face inference toolkit + multi-model-server on 127.0.0.1:{server_port}"
        f" (log: {run_dir / 'server.log'})"
    )
    with LocalServer(model, run_dir, server_port) as server:
        if capture is None:
            yield server.url
        else:
            with CaptureRouter(server.url, capture, port=port or 0) as router:
                console.print(
                    f"  data capture on: {router.url} -> {server.url}, {capture.percentage:g} % of invocations"
                    f" into {capture.folder}/yyyy/mm/dd/hh/"
                )
                yield router.url
            console.print(f"  captured {capture.captured} invocation(s) ({capture.not_sampled} not sampled)")
    console.print("  server stopped (its whole process group)")
    shutil.rmtree(run_dir, ignore_errors=True)  # kept only when something failed, for its log


def invoke(
    url: str, body: bytes, content_type: str, accept: str | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    """POST <url>/invocations; (status, body) for any HTTP answer."""
    all_headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {}), **(headers or {})}
    request = urllib.request.Request(url + "/invocations", data=body, headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def predict(
    package: dict, reviews: list[str], port: int | None, console: Console, capture: CaptureWriter | None = None
) -> list[dict]:
    """Start the server on the version's model.tar.gz, send ``reviews`` in one request, stop it."""
    with serving(package, port, console, capture) as url:
        console.print(f"  ready; POST {url}/invocations with {len(reviews)} review(s)")
        status, body = invoke(url, json.dumps({"inputs": reviews}).encode(), "application/json", "application/json")
        if status != 200:
            raise RegistryError(f"the server answered {status}: {body.decode(errors='replace')[:500]}")
        return json.loads(body)


def serve_until_stopped(package: dict, port: int, console: Console, capture: CaptureWriter | None = None) -> int:
    """Serve until SIGINT/SIGTERM (Ctrl-C), then stop the router and the server's process group."""
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    # SIGTERM while starting: leave through the context managers' cleanup, as Ctrl-C does.
    previous = {sig: signal.getsignal(sig) for sig in stop_signals}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        with serving(package, port, console, capture) as url:
            # From here a stop signal only sets the flag (handlers run in the main thread), so a
            # second Ctrl-C cannot interrupt the cleanup halfway.
            stop = threading.Event()
            for sig in stop_signals:
                signal.signal(sig, lambda *_: stop.set())
            console.print(f"serving on {url} (GET /ping, POST /invocations); Ctrl-C stops")
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("stopped")
    return 0


def capture_writer(capture_dir: Path, environment: str, percentage: float) -> CaptureWriter:
    """Capture as the environment's endpoint would: <capture dir>/<endpoint name>/<variant>/..."""
    from local_runner.definition import load_environment_config

    config = load_environment_config(environment)
    return CaptureWriter(Path(capture_dir).resolve(), config.endpoint_name, percentage=percentage)


def format_predictions(reviews: list[str], predictions: list[dict]) -> list[str]:
    lines = []
    for text, answer in zip(reviews, predictions, strict=False):
        short = text if len(text) <= 60 else text[:57] + "..."
        probabilities = " ".join(f"{k[:3]} {v:.2f}" for k, v in (answer.get("probabilities") or {}).items())
        lines.append(f"  {answer.get('label', '?'):>8}  [{probabilities}]  {short!r}")
    return lines


def _start_both(servers: list) -> None:
    """Start the servers side by side (each start waits for a real answer); on any failure stop all."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(servers)) as pool:
        failures = [error for error in pool.map(_start_or_error, servers) if error is not None]
    if failures:
        for server in servers:
            server.stop()
        raise failures[0]


def _start_or_error(server) -> BaseException | None:
    try:
        server.start(timeout=180)
    except BaseException as error:  # raised by the caller once both starts have ended
        return error
    return None


@contextmanager
def serving_variants(
    champion: dict,
    challenger: dict,
    port: int | None,
    console: Console,
    mode: str,
    percent: float,
    writers: dict[str, CaptureWriter] | None = None,
) -> Iterator[VariantRouter]:
    """Two toolkit servers (the champion's and the challenger's model.tar.gz) behind a
    ``VariantRouter`` on ``port`` (0 or None: a free one) while the block runs; yields the router.
    Leaving the block lets mirrored requests end, then stops the router and both process groups."""
    from tools.serve import LocalServer, free_port

    packages = {CHAMPION: champion, CHALLENGER: challenger}
    ports: list[int] = []
    while len(ports) < 2:
        candidate = free_port()
        if candidate not in ports:
            ports.append(candidate)
    run_dirs = {variant: Path(tempfile.mkdtemp(prefix=f"serve-{variant[:5].lower()}-")) for variant in packages}
    servers = {
        variant: LocalServer(model_path(package), run_dirs[variant], server_port)
        for (variant, package), server_port in zip(packages.items(), ports, strict=True)
    }
    for variant, package in packages.items():
        console.print(
            f"{variant:<10} {package['ModelPackageGroupName']} version {package['ModelPackageVersion']}"
            f" ({package['ModelApprovalStatus']}): toolkit + multi-model-server on {servers[variant].url}"
            f" (log: {run_dirs[variant] / 'server.log'})"
        )
    if champion.get("ModelPackageVersion") == challenger.get("ModelPackageVersion"):
        console.print("  note: the challenger is the champion's own version (both variants answer alike)")
    _start_both(list(servers.values()))
    try:
        with VariantRouter(
            servers[CHAMPION].url, servers[CHALLENGER].url, mode, percent, writers, port=port or 0
        ) as router:
            share = "mirrored to" if mode == "shadow" else "answered by"
            console.print(f"  {mode}: {router.url}; {percent:g} % of requests {share} {CHALLENGER}")
            if writers:
                first = writers[CHAMPION]
                console.print(
                    f"  data capture on: {first.percentage:g} % of invocations into"
                    f" {first.folder.parent}/{{{','.join(writers)}}}/yyyy/mm/dd/hh/"
                )
            yield router
        console.print(f"  {router.summary()}")
    finally:
        for server in servers.values():
            server.stop()
    console.print("  both servers stopped (their whole process groups)")
    for run_dir in run_dirs.values():
        shutil.rmtree(run_dir, ignore_errors=True)


def serve_variants_until_stopped(
    champion: dict, challenger: dict, port: int, console: Console, mode: str, percent: float, writers=None
) -> int:
    """``serve_until_stopped`` for a champion and a challenger behind the variant router."""
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.getsignal(sig) for sig in stop_signals}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        with serving_variants(champion, challenger, port, console, mode, percent, writers) as router:
            stop = threading.Event()
            for sig in stop_signals:
                signal.signal(sig, lambda *_: stop.set())
            console.print(f"serving on {router.url} (GET /ping, POST /invocations); Ctrl-C stops")
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("stopped")
    return 0


def variant_writers(capture_dir: Path, environment: str, percentage: float) -> dict[str, CaptureWriter]:
    """One writer per variant, as the environment's endpoint captures: <dir>/<endpoint>/<variant>/..."""
    from local_runner.definition import load_environment_config

    endpoint = load_environment_config(environment).endpoint_name
    root = Path(capture_dir).resolve()
    return {variant: CaptureWriter(root, endpoint, variant, percentage=percentage) for variant in VARIANTS}
