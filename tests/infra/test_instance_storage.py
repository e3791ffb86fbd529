"""Which instance types take a volume KMS key (NVMe instance storage refuses one)."""

from __future__ import annotations

import pytest

from infra.instance_storage import has_instance_storage, volume_kms_key


@pytest.mark.parametrize(
    ("instance_type", "nvme"),
    [
        ("ml.g5.xlarge", True),
        ("ml.g4dn.xlarge", True),
        ("ml.p4d.24xlarge", True),
        ("ml.m5d.large", True),
        ("ml.m5.xlarge", False),
        ("ml.c5.2xlarge", False),
        ("ml.p3.2xlarge", False),
        ("ml.inf2.xlarge", False),
    ],
)
def test_instance_storage_decides_the_volume_key(instance_type, nvme):
    assert has_instance_storage(instance_type) is nvme
    assert volume_kms_key(instance_type, "key") == (None if nvme else "key")


def test_instance_storage_refuses_a_non_sagemaker_type():
    with pytest.raises(ValueError, match="not a SageMaker instance type"):
        has_instance_storage("g5.xlarge")
