"""Names of the model and endpoint config that deploying one model package creates.

They are derived from the endpoint and the package ARN only, so an EventBridge retry or a
dead-letter redrive of the same approval computes the same names, finds the resources it
created last time and reuses them instead of piling up copies.
"""

from __future__ import annotations

import hashlib
import re

# CreateModel and CreateEndpointConfig: 1-63 characters of [a-zA-Z0-9](-*[a-zA-Z0-9])*.
MAX_LENGTH = 63
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9-]+")


def deployment_name(endpoint_name: str, package_version: int, package_arn: str, kind: str = "", basis: str = "") -> str:
    """``<endpoint>-v<version>-<8 hex of sha256(arn)>``, the endpoint part shortened to fit.

    The digest, not the version alone, makes the name unique: a package group recreated
    under the same name restarts its versions at 1 with new ARNs.

    Endpoint configs whose content depends on more than the package (a challenger beside
    the champion, the end of a test) add a ``kind`` (``-v3-shadow10-...``) and hash the
    ``basis`` too: the endpoint config they were cloned from, so a retry finds the same
    name while a test against another champion gets its own. All start ``<endpoint>-v``,
    the prefix the function's IAM policy allows.
    """
    digest = hashlib.sha256((package_arn + (f"\n{basis}" if basis else "")).encode()).hexdigest()[:8]
    suffix = f"-v{package_version}{f'-{kind}' if kind else ''}-{digest}"
    prefix = _NOT_ALLOWED.sub("-", endpoint_name)[: MAX_LENGTH - len(suffix)].strip("-")
    return f"{prefix or 'model'}{suffix}"


def package_version(package_arn: str) -> int:
    """The version a model package version ARN ends with (``.../model-package/<group>/<n>``); 0 if none."""
    last = package_arn.rsplit("/", 1)[-1]
    return int(last) if last.isdigit() else 0
