"""Container paths (/opt/ml/..., /tmp/...) remapped into a per-host folder of the run.

Without Docker there is no container filesystem, so every container path a step sees is
rewritten to ``<host root>/opt/ml/...`` and ``<host root>/tmp/...``: in the entrypoint and
arguments, in environment values, and, through ``local_runner/container/sitecustomize.py``
(put first on the step's PYTHONPATH), in the argparse defaults of the step's scripts, which
is where ml_code keeps its container paths (``--output-dir /opt/ml/processing/output``).
The one rule is applied everywhere, so a path in an argument and the same path as a script
default always meet in the same local folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

CONTAINER_ROOTS = ("/opt/ml", "/tmp")
PATH_MAP_ENV = "LOCAL_RUNNER_PATH_MAP"
HOOK_DIR = Path(__file__).resolve().parent / "container"
# A container root at a path boundary: not inside a longer name (/tmpfoo, /var/tmp).
_ROOT = re.compile(r"(?<![\w.\-/])(" + "|".join(re.escape(r) for r in CONTAINER_ROOTS) + r")(?=/|$|[^\w.\-])")
# The step entrypoints are shell commands with unquoted paths: the run folder must need no quoting.
_SHELL_SAFE = re.compile(r"^[A-Za-z0-9_./@%+=:,-]+$")


class PathMap:
    """Container root -> local folder, for one host of one step.

    ``host_paths`` are paths of this machine that the runner itself put into the definition
    (the --base-model folder): they are left alone even when they live under /tmp."""

    def __init__(self, host_root: Path, host_paths: tuple[str, ...] = ()):
        self.host_root = Path(host_root).resolve()
        # Already local: the host folder itself (it may live under /tmp) and the runner's own paths.
        self.host_paths = (str(self.host_root), *(str(p) for p in host_paths))
        if not _SHELL_SAFE.match(str(self.host_root)):
            raise ValueError(
                f"run folder {self.host_root} has characters a shell would split or expand; "
                "use a path of letters, digits and ._-/ only"
            )
        self.roots = {root: str(self.host_root / root.lstrip("/")) for root in CONTAINER_ROOTS}

    def local(self, container_path: str) -> Path:
        """The local folder of an absolute container path."""
        rewritten = self.rewrite(container_path)
        if rewritten == container_path:
            raise ValueError(f"{container_path!r} is not under a container root ({', '.join(CONTAINER_ROOTS)})")
        return Path(rewritten)

    def rewrite(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            if any(text.startswith(path, match.start()) for path in self.host_paths):
                return match.group(0)
            return self.roots[match.group(1)]

        return _ROOT.sub(replace, text)

    def rewrite_all(self, value):
        """``rewrite`` applied to every string in a list/dict structure."""
        if isinstance(value, str):
            return self.rewrite(value)
        if isinstance(value, list):
            return [self.rewrite_all(v) for v in value]
        if isinstance(value, dict):
            return {k: self.rewrite_all(v) for k, v in value.items()}
        return value

    def create(self) -> None:
        for folder in self.roots.values():
            Path(folder).mkdir(parents=True, exist_ok=True)

    def hook_environment(self) -> dict[str, str]:
        """What the step's Python processes need for the argparse-default remapping."""
        return {PATH_MAP_ENV: json.dumps({"roots": self.roots, "keep": list(self.host_paths)})}
