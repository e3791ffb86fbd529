"""Container image URIs for the pinned images of ml_code.common.containers, resolved offline."""

from __future__ import annotations

from dataclasses import dataclass

from ml_code.common.containers import INFERENCE_IMAGE, PROCESSING_IMAGE, TRAINING_IMAGE, HuggingFaceImage

# The instance type only selects the GPU variant of an image; the run-time instance type is
# a pipeline parameter. Hugging Face training DLCs are published for GPU only.
_GPU_INSTANCE = "ml.g5.xlarge"


@dataclass(frozen=True)
class ImageUris:
    training: str
    processing: str
    inference: str


def repository_of(image_uri: str) -> tuple[str, str]:
    """(registry account, repository name) of an ECR image URI."""
    host, path = image_uri.split("/", 1)
    return host.split(".")[0], path.split(":")[0]


def repository_arn_of(image_uri: str) -> str:
    """The ECR repository ARN of an image URI (<account>.dkr.ecr.<region>.<suffix>/<name>:<tag>)."""
    host, path = image_uri.split("/", 1)
    account, _, _, region, suffix = host.split(".", 4)
    partition = "aws-cn" if suffix.endswith(".cn") else "aws"
    return f"arn:{partition}:ecr:{region}:{account}:repository/{path.split(':')[0]}"


def analyzer_image_uri(region: str) -> str:
    """SageMaker Model Monitor's analyzer (data-quality jobs and baselines)."""
    from sagemaker import image_uris

    return image_uris.retrieve("model-monitor", region=region)


def _retrieve(image: HuggingFaceImage, region: str) -> str:
    from sagemaker import image_uris

    return image_uris.retrieve(
        "huggingface",
        region=region,
        version=image.transformers_version,
        base_framework_version=image.base_framework_version,
        py_version=image.py_version,
        image_scope=image.scope,
        instance_type=_GPU_INSTANCE,
    )


def image_uris_for(region: str) -> ImageUris:
    return ImageUris(
        training=_retrieve(TRAINING_IMAGE, region),
        processing=_retrieve(PROCESSING_IMAGE, region),
        inference=_retrieve(INFERENCE_IMAGE, region),
    )
