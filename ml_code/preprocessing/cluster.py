"""Which instance this is: SageMaker writes /opt/ml/config/resourceconfig.json on each one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ml_code.preprocessing.errors import InputError

SINGLE_HOST = "algo-1"  # SageMaker's name for the first instance, used when run locally
_HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # it ends up in output file names


@dataclass(frozen=True)
class HostIdentity:
    current_host: str
    hosts: tuple[str, ...]


def read_host_identity(path: Path) -> HostIdentity:
    """The instance's identity; a single ``algo-1`` when the file does not exist (local runs)."""
    if not path.exists():
        return HostIdentity(SINGLE_HOST, (SINGLE_HOST,))
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        identity = HostIdentity(str(config["current_host"]), tuple(str(h) for h in config["hosts"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a resource config with current_host and hosts ({exc!r})") from exc
    if identity.current_host not in identity.hosts or not _HOST_NAME.fullmatch(identity.current_host):
        raise InputError(f"{path}: current_host {identity.current_host!r} is not a valid name listed in hosts")
    return identity
