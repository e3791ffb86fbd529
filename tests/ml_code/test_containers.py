"""The local environment runs ml_code on the container versions it will meet on SageMaker."""

from __future__ import annotations

from ml_code.common.containers import INFERENCE_IMAGE, TRAINING_IMAGE


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_local_transformers_is_the_inference_containers_and_between_it_and_training():
    import transformers

    local = _major_minor(transformers.__version__)
    # make serve runs SageMaker's inference toolkit: it must see the endpoint's exact version.
    assert transformers.__version__ == INFERENCE_IMAGE.transformers_version
    assert (
        _major_minor(INFERENCE_IMAGE.transformers_version) <= local <= _major_minor(TRAINING_IMAGE.transformers_version)
    )


def test_images_use_torch_2_and_python_3():
    for image in (TRAINING_IMAGE, INFERENCE_IMAGE):
        assert image.pytorch_version.startswith("2.") and image.py_version.startswith("py3")
        assert image.base_framework_version == f"pytorch{image.pytorch_version}"
