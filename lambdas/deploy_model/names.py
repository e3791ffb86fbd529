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


def deployment_name(endpoint_name: str, package_version: int, package_arn: str) -> str:
    """``<endpoint>-v<version>-<8 hex of sha256(arn)>``, the endpoint part shortened to fit.

    The digest, not the version alone, makes the name unique: a package group recreated
    under the same name restarts its versions at 1 with new ARNs.
    """
    suffix = f"-v{package_version}-{hashlib.sha256(package_arn.encode()).hexdigest()[:8]}"
    prefix = _NOT_ALLOWED.sub("-", endpoint_name)[: MAX_LENGTH - len(suffix)].strip("-")
    return f"{prefix or 'model'}{suffix}"
