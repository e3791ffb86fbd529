"""Running a step's processes: one per host, each in its own process group, logged to a file.

Each output line goes to the host's log file and, when ``echo`` says so, to the console
(prefixed with the step and host). A timeout (the step's MaxRuntimeInSeconds) or a failed
host stops the others, as SageMaker stops a job when one instance fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_SECONDS = 10


@dataclass
class HostProcess:
    host: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    log_path: Path


@dataclass
class HostResult:
    host: str
    exit_code: int | None  # None: stopped by the runner, see ``stopped``
    log_path: Path
    stopped: str = ""  # why the runner stopped it: "timeout" or "another host failed"


def python_shim(bin_dir: Path) -> Path:
    """``python3`` and ``python`` that run this interpreter (the container's ``python3``).

    A wrapper script, not a symlink: a symlinked venv interpreter would lose its venv.
    """
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("python3", "python"):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        shim.chmod(0o755)
    return bin_dir


def run_hosts(
    processes: list[HostProcess],
    echo: Callable[[str, str], None] | None = None,
    timeout: float | None = None,
) -> list[HostResult]:
    """Run all hosts' processes to completion; ``echo(host, line)`` sees each output line."""
    started: list[tuple[HostProcess, subprocess.Popen, threading.Thread]] = []
    try:
        for spec in processes:
            spec.log_path.parent.mkdir(parents=True, exist_ok=True)
            popen = subprocess.Popen(
                spec.command,
                cwd=spec.cwd,
                env=spec.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            reader = threading.Thread(target=_pump, args=(popen, spec, echo), daemon=True)
            reader.start()
            started.append((spec, popen, reader))
        deadline = None if timeout is None else time.monotonic() + timeout
        stopped: dict[str, str] = {}
        while any(p.poll() is None for _, p, _ in started):
            failed = any(p.poll() not in (None, 0) for _, p, _ in started)
            timed_out = deadline is not None and time.monotonic() > deadline
            if failed or timed_out:
                for spec, popen, _ in started:
                    if popen.poll() is None:
                        stopped[spec.host] = "timeout" if timed_out else "another host failed"
                        _stop(popen)
                break
            time.sleep(0.1)
    except BaseException:
        for _, popen, _ in started:
            _stop(popen)
        raise
    results = []
    for spec, popen, reader in started:
        popen.wait()
        reader.join(timeout=5)
        reason = stopped.get(spec.host, "")
        results.append(HostResult(spec.host, None if reason else popen.returncode, spec.log_path, reason))
    return results


def _pump(popen: subprocess.Popen[bytes], spec: HostProcess, echo: Callable[[str, str], None] | None) -> None:
    stdout = popen.stdout
    assert stdout is not None, "run_hosts starts every process with stdout=PIPE"
    with open(spec.log_path, "ab") as log:
        for raw in iter(stdout.readline, b""):
            log.write(raw)
            log.flush()
            if echo is not None:
                echo(spec.host, raw.decode("utf-8", errors="replace").rstrip("\n"))
    stdout.close()


def _stop(popen: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL after a grace period (torchrun workers included)."""
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(popen.pid, sig)
        except ProcessLookupError:
            return
        try:
            popen.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def log_tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
