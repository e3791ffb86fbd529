"""What a step handler gets: its evaluated arguments, its folder, the local S3, and the console."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from local_runner.container_paths import HOOK_DIR, PathMap
from local_runner.local_s3 import LocalS3

# Variables of the calling shell that would leak a different configuration into a step.
_NOT_INHERITED = re.compile(
    r"^(PYTHONPATH|PYTHONHOME|PYTHONSTARTUP|SM_.*|SAGEMAKER_.*|TRAINING_JOB_.*"
    r"|RANK|LOCAL_RANK|WORLD_SIZE|MASTER_ADDR|MASTER_PORT)$"
)


class Console:
    """Progress output, safe to call from the threads that read step output."""

    def __init__(self, verbose: bool = False, stream=None):
        import sys

        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def print(self, message: str = "") -> None:
        with self._lock:
            print(message, file=self.stream, flush=True)

    def step_output(self, step: str, host: str, line: str, important: bool = False) -> None:
        if self.verbose or important:
            self.print(f"    {step}/{host} | {line}")


@dataclass
class StepEnvironment:
    name: str
    step_type: str
    arguments: dict  # the step's Arguments with every expression evaluated
    step_dir: Path
    s3: LocalS3
    execution_id: str
    pipeline_name: str
    region: str
    account: str
    bin_dir: Path  # python3/python shims
    console: Console
    train_processes: int = 1
    notes: list[str] = field(default_factory=list)  # local differences, for the report
    host_paths: tuple[str, ...] = ()  # host folders the runner put into the definition (--base-model)

    def path_map(self, host: str) -> PathMap:
        return PathMap(self.step_dir / host, self.host_paths)

    @property
    def job_name(self) -> str:
        # SageMaker job names: 63 characters, letters, digits and hyphens.
        raw = f"pipelines-{self.execution_id}-{self.name}".lower()
        return re.sub(r"[^a-z0-9-]", "-", raw)[:63].rstrip("-")

    def arn(self, resource: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource}"

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def process_environment(self, path_map: PathMap, extra: dict[str, str] | None = None) -> dict[str, str]:
        """This machine's environment as the container would differ from it: container paths remapped,
        ``python3`` is this interpreter, the remapping hook is imported first, temp files stay in the host folder."""
        env = {k: v for k, v in os.environ.items() if not _NOT_INHERITED.match(k)}
        tmp = path_map.roots["/tmp"]
        env.update(
            PATH=f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}",
            PYTHONPATH=str(HOOK_DIR),
            PYTHONUNBUFFERED="1",
            TMPDIR=tmp,
            TEMP=tmp,
            TMP=tmp,
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
            **path_map.hook_environment(),
        )
        env.update(extra or {})
        return env
