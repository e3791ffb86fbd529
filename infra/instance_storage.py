"""Which SageMaker instance types bring NVMe instance storage.

SageMaker refuses a KMS key for the storage volume on these types at deploy time
(``CreateEndpointConfig``/``CreateTransformJob``: "KMS key not supported for instance
type with instance storage"); their NVMe volumes are encrypted by the hardware instead.
Templates synthesize and lint either way, so the rule lives here, tested, not in a deploy.
"""

from __future__ import annotations

import re

# Families with a "d" storage suffix (m5d, c6id, g4dn, p4d, ...) and the GPU families whose
# every size carries NVMe storage although their names have no "d".
_STORAGE_SUFFIX = re.compile(r"^[a-z]+\d+[a-z]*d[a-z]*$")
_ALWAYS_NVME = frozenset({"g5", "g6", "g6e", "gr6", "p5", "p5e", "p5en"})


def has_instance_storage(instance_type: str) -> bool:
    """``ml.g5.xlarge`` -> True, ``ml.m5.xlarge`` -> False, ``ml.g4dn.xlarge`` -> True."""
    parts = instance_type.split(".")
    if len(parts) != 3 or parts[0] != "ml":
        raise ValueError(f"not a SageMaker instance type: {instance_type!r}")
    family = parts[1]
    return family in _ALWAYS_NVME or bool(_STORAGE_SUFFIX.match(family))


def volume_kms_key(instance_type: str, key_arn: str) -> str | None:
    """The volume key to set for ``instance_type``: ``key_arn``, or None where AWS rejects one."""
    return None if has_instance_storage(instance_type) else key_arn
