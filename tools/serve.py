"""Serve a model locally through SageMaker's own Hugging Face inference stack (no Docker).

    python -m tools.serve --model build/model.tar.gz [--port 8080]      (make serve MODEL=...)

Runs the toolkit's real serving entry (``sagemaker_huggingface_inference_toolkit.serving``:
multi-model-server on Java, the toolkit's handler service, our code/inference.py) as the
endpoint container would, with three local redirections: the model server config goes to
the run folder instead of /etc, it binds 127.0.0.1 instead of 0.0.0.0, and it finds its own
Java process by process group (the toolkit looks machine-wide and refuses a second server).
Everything runs in its own process group; ``LocalServer.stop`` ends the whole group.

API for tests and benchmarks:

    with LocalServer(model_path, run_dir, port=free_port()) as server:  # waits for a real invocation
        status, body = server.invoke(b'{"inputs": "great dress"}', "application/json")
    # leaving the block stops the whole process group (and raises if anything survives)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# The model server's default is one worker per CPU, each loading the model; one is enough
# locally and keeps start-up and memory small. SAGEMAKER_MODEL_SERVER_WORKERS overrides it.
DEFAULT_WORKERS = "1"
READY_PROBE = {"inputs": "ready?"}
STOP_GRACE_SECONDS = 15
# multi-model-server parses ports into a Java short: "Invalid port number" from 32767 up.
MAX_PORT = 32766
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def free_port(low: int = 20000, high: int = MAX_PORT) -> int:
    """A port nothing listens on right now, for servers side by side (tests, local runs).

    Not the kernel's choice (bind to port 0): Linux hands out 32768 and up, which the model
    server refuses. Random, so concurrent callers rarely try the same one.
    """
    for port in random.sample(range(low, high + 1), 200):
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {low} and {high}")


def prepare_run_dir(model: Path, run_dir: Path) -> Path:
    """run_dir/model is what the toolkit serves: model.tar.gz unpacked there, or a link to a model directory."""
    from ml_code.training.packaging import resolve_model_dir

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "tmp").mkdir(exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    served = run_dir / "model"
    if served.is_symlink() or served.exists():
        raise ValueError(f"{run_dir} was used before: give each server a fresh run folder")
    model_dir = resolve_model_dir(model.resolve(), served)
    if model_dir != served:
        served.symlink_to(model_dir, target_is_directory=True)
    if not (served / "code" / "inference.py").is_file():
        raise ValueError(f"{model} has no code/inference.py: it was not written by ml_code/train.py")
    return served


def server_environment(run_dir: Path, port: int, base: dict[str, str]) -> dict[str, str]:
    """The container's environment contract, pointed at the run folder."""
    env = {k: v for k, v in base.items() if k != "PYTHONPATH"}  # the worker must import code/ml_code, not ours
    env.update(
        SAGEMAKER_BASE_DIR=str(run_dir),  # the toolkit serves <base>/model and imports <base>/model/code
        SAGEMAKER_BIND_TO_PORT=str(port),
        SAGEMAKER_MODEL_SERVER_WORKERS=base.get("SAGEMAKER_MODEL_SERVER_WORKERS", DEFAULT_WORKERS),
        # Model server pid file and Java's worker sockets live in the temp dir: one per server.
        TMPDIR=str(run_dir / "tmp"),
        TEMP=str(run_dir / "tmp"),
        LOG_LOCATION=str(run_dir / "logs"),
        METRICS_LOCATION=str(run_dir / "logs"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}",  # multi-model-server's CLI
    )
    return env


def run_toolkit(run_dir: Path) -> None:
    """Inside the server's process group: patch the three local differences, then the toolkit's main()."""
    import psutil
    from sagemaker_huggingface_inference_toolkit import mms_model_server, serving
    from sagemaker_inference import model_server

    config_file = str(run_dir / "sagemaker-mms.properties")
    model_server.MMS_CONFIG_FILE = mms_model_server.MMS_CONFIG_FILE = config_file
    generate = model_server._generate_mms_config_properties
    model_server._generate_mms_config_properties = lambda env, handler=None: generate(env, handler).replace(
        "http://0.0.0.0:", f"http://{HOST}:"
    )
    group = os.getpgrp()

    def own_model_server() -> psutil.Process:
        for process in psutil.process_iter(["cmdline"]):
            try:
                if model_server.MMS_NAMESPACE in (process.info["cmdline"] or []) and os.getpgid(process.pid) == group:
                    return process
            except (psutil.Error, ProcessLookupError):
                continue
        raise RuntimeError("model server not started yet")  # the toolkit retries until its start-up timeout

    model_server._retrieve_mms_server_process = own_model_server
    serving.main()


class LocalServer:
    """The toolkit and model server in their own process group, started and stopped as one."""

    def __init__(self, model: Path, run_dir: Path, port: int = DEFAULT_PORT, env: dict[str, str] | None = None):
        self.model, self.run_dir, self.port = Path(model), Path(run_dir), port
        self.env = dict(os.environ if env is None else env)
        self.log_path = self.run_dir / "server.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 120) -> LocalServer:
        prepare_run_dir(self.model, self.run_dir)
        with open(self.log_path, "ab") as log:
            process = self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--toolkit-child", str(self.run_dir)],
                cwd=self.run_dir,
                env=server_environment(self.run_dir, self.port, self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own session and process group: stop() signals them all
            )
        try:
            self._wait_until_serving(process, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_serving(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        # /ping answers before the worker has run model_fn; only a real invocation proves readiness.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; log:\n{self.log_tail()}")
            try:
                status, _ = self.invoke(json.dumps(READY_PROBE).encode(), "application/json", timeout=10)
                if status == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.25)
        raise TimeoutError(f"no successful invocation within {timeout:.0f} s; log:\n{self.log_tail()}")

    def invoke(
        self, body: bytes, content_type: str, accept: str | None = None, timeout: float = 30
    ) -> tuple[int, bytes]:
        """POST /invocations; (status, body) for any HTTP answer, OSError when nothing answers."""
        headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
        request = urllib.request.Request(self.url + "/invocations", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def group_members(self) -> list[int]:
        """Live (non-zombie) processes of the server's process group."""
        import psutil

        if self.process is None:
            return []
        members = []
        for process in psutil.process_iter(["status"]):
            try:
                if os.getpgid(process.pid) == self.process.pid and process.info["status"] != psutil.STATUS_ZOMBIE:
                    members.append(process.pid)
            except (psutil.Error, ProcessLookupError):
                continue
        return members

    def stop(self) -> None:
        """SIGTERM to the group (the toolkit forwards it to Java), SIGKILL for whatever is left."""
        if self.process is None:
            return
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while self.group_members() and time.monotonic() < deadline:
                time.sleep(0.1)
            if not self.group_members():
                break
        self.process.wait(timeout=5)
        survivors = self.group_members()
        if survivors:
            raise RuntimeError(f"server processes {survivors} survived SIGKILL")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model directory (from train.py) or model.tar.gz")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", DEFAULT_PORT)), help="port (default: $PORT or 8080)"
    )
    parser.add_argument(
        "--run-dir", type=Path, help="folder for config, logs and the unpacked model (default: a new temp folder)"
    )
    parser.add_argument(
        "--timeout", type=float, default=180, help="seconds to wait for the first successful invocation"
    )
    # Internal: what LocalServer runs inside the new process group.
    parser.add_argument("--toolkit-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.port <= MAX_PORT:
        parser.error(f"--port must be between 1 and {MAX_PORT} (the model server refuses higher ports)")
    if args.toolkit_child is None and (args.model is None or not args.model.exists()):
        parser.error(f"--model must name an existing model directory or model.tar.gz (got {args.model})")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.toolkit_child is not None:
        run_toolkit(args.toolkit_child)
        return
    # Short temp paths: the model server's Unix sockets live under run_dir and are limited to ~100 bytes.
    run_dir = args.run_dir or Path(tempfile.mkdtemp(prefix="serve-"))
    server = LocalServer(args.model, run_dir, args.port)
    # SIGTERM while starting: leave through start()'s cleanup, as Ctrl-C (KeyboardInterrupt) does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    print(f"starting SageMaker's Hugging Face inference toolkit for {args.model} (log: {server.log_path})", flush=True)
    server.start(timeout=args.timeout)
    print(f"serving on {server.url} (GET /ping, POST /invocations); Ctrl-C stops", flush=True)
    # From here a stop signal is waited for, not raised, so it cannot interrupt stop() halfway.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        signal.sigwait(STOP_SIGNALS)
    finally:
        server.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    main()
