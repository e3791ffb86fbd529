"""Loaded by every Python process of a local step (first on its PYTHONPATH); not shipped to AWS.

The step's scripts default their paths to container folders (``/opt/ml/processing/output``)
in argparse. Here each such default is rewritten to the step's local folder, following the
same map the runner applied to the entrypoint, arguments and environment, and each rewrite
is logged. Values given on the command line are left alone (the runner already rewrote them).
A Python-level open() of a container path that escaped the map is reported too.
"""

import json
import os
import sys
from collections.abc import Callable
from typing import cast

_CONFIG = json.loads(os.environ.get("LOCAL_RUNNER_PATH_MAP", "{}"))
_MAP = _CONFIG.get("roots", {})
_KEEP = tuple(_CONFIG.get("keep", ()))  # already local: the host folder (maybe under /tmp), --base-model


def _local(value):
    text = os.fspath(value)
    if any(text == keep or text.startswith(keep + "/") for keep in _KEEP):
        return None
    for root, local in _MAP.items():
        if text == root or text.startswith(root + "/"):
            return local + text[len(root) :]
    return None


def _install_argparse_hook():
    import argparse

    original = argparse._ActionsContainer.add_argument

    def add_argument(self, *args, **kwargs):
        action = original(self, *args, **kwargs)
        default = action.default
        if isinstance(default, (str, os.PathLike)) and not isinstance(default, bytes):
            local = _local(default)
            if local is not None:
                if isinstance(default, str):
                    action.default = local
                else:
                    # The scripts' path defaults are pathlib paths, whose types take a str.
                    path_type = cast(Callable[[str], os.PathLike[str]], type(default))
                    action.default = path_type(local)
                name = action.option_strings[0] if action.option_strings else action.dest
                print(f"[local_runner] default of {name}: {os.fspath(default)} -> {local}", file=sys.stderr, flush=True)
        return action

    # Replacing the method is this hook's purpose; mypy flags any assignment to a method.
    argparse._ActionsContainer.add_argument = add_argument  # type: ignore[method-assign]


def _audit(event, args):
    if event == "open" and args and isinstance(args[0], (str, os.PathLike)) and not isinstance(args[0], bytes):
        path = os.fspath(args[0])
        if path.startswith("/opt/ml/") or path == "/opt/ml":
            print(
                f"[local_runner] WARNING: container path {path} was opened without remapping",
                file=sys.stderr,
                flush=True,
            )


def _chain_to_shadowed_sitecustomize():
    """Some Pythons ship their own sitecustomize (Debian's): this one hides it, so run it too."""
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


if _MAP:
    _install_argparse_hook()
    sys.addaudithook(_audit)
_chain_to_shadowed_sitecustomize()
