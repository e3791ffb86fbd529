"""Serve a registered model version through tools/serve.py (SageMaker's Hugging Face inference
toolkit and model server on 127.0.0.1), like an endpoint deployed from the registry would.

Only an Approved version is served unless another status is asked for explicitly: that is
what the approval gate means in the real system (the serving side deploys approved packages).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from local_runner.errors import RegistryError
from local_runner.registry import LocalRegistry
from local_runner.step_environment import Console


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


def predict(package: dict, reviews: list[str], port: int | None, console: Console) -> list[dict]:
    """Start the server on the version's model.tar.gz, send ``reviews`` in one request, stop it."""
    # tools.serve.free_port stays below 32767: multi-model-server refuses higher ports.
    from tools.serve import LocalServer, free_port

    model = model_path(package)
    # Short path: the model server's Unix sockets live under the run folder (about 100 bytes allowed).
    run_dir = Path(tempfile.mkdtemp(prefix="serve-"))
    port = port or free_port()
    console.print(
        f"Serving {package['ModelPackageGroupName']} version {package['ModelPackageVersion']}"
        f" ({package['ModelApprovalStatus']}) from {model}"
    )
    console.print(
        f"  SageMaker Hugging Face inference toolkit + multi-model-server on 127.0.0.1:{port}"
        f" (log: {run_dir / 'server.log'})"
    )
    with LocalServer(model, run_dir, port) as server:
        console.print(f"  ready; POST {server.url}/invocations with {len(reviews)} review(s)")
        status, body = server.invoke(json.dumps({"inputs": reviews}).encode(), "application/json", "application/json")
        if status != 200:
            raise RegistryError(f"the server answered {status}: {body.decode(errors='replace')[:500]}")
        predictions = json.loads(body)
    console.print("  server stopped (its whole process group)")
    shutil.rmtree(run_dir, ignore_errors=True)  # kept only when something failed, for its log
    return predictions


def format_predictions(reviews: list[str], predictions: list[dict]) -> list[str]:
    lines = []
    for text, answer in zip(reviews, predictions):
        short = text if len(text) <= 60 else text[:57] + "..."
        probabilities = " ".join(f"{k[:3]} {v:.2f}" for k, v in (answer.get("probabilities") or {}).items())
        lines.append(f"  {answer.get('label', '?'):>8}  [{probabilities}]  {short!r}")
    return lines
