"""A module run as a script in a fresh interpreter, with its own peak RSS (VmHWM).

Not the parent's rusage: on Linux a child's ru_maxrss starts from the forking parent's peak,
which is large in a benchmark that has already loaded data.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

_WRAPPER = """
import re, runpy, sys
module = sys.argv.pop(1)
sys.argv[0] = module.rpartition(".")[2]
try:
    runpy.run_module(module, run_name="__main__")
finally:
    status = open("/proc/self/status").read()
    print("VmHWM_KB", re.search(r"VmHWM:\\s+(\\d+)", status).group(1))
"""


def run_module(module: str, argv: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """(peak RSS in MB, wall seconds, the finished process) of ``python -m module argv``.
    Raises SystemExit naming the module and the end of its output if it fails."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _WRAPPER, module, *argv], cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-3:]
        raise SystemExit(f"{module} failed ({result.returncode}): {tail}")
    return int(result.stdout.split("VmHWM_KB")[-1]) / 1024, seconds, result
