"""The SageMaker container images ml_code runs in, pinned once.

infra resolves these to image URIs with ``sagemaker.image_uris.retrieve`` (offline); the
local environment (requirements-ml.txt) uses the same transformers major version, and a
test checks that it does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HuggingFaceImage:
    scope: str  # "training" or "inference", as image_uris.retrieve names it
    transformers_version: str
    pytorch_version: str
    py_version: str

    @property
    def base_framework_version(self) -> str:
        return f"pytorch{self.pytorch_version}"


# Training and processing: the Hugging Face PyTorch training DLC. It is published for GPU
# only; processing runs it on CPU instances too (CUDA simply goes unused) because it already
# has transformers, tokenizers, pandas and pyarrow, so no job installs packages at start.
TRAINING_IMAGE = HuggingFaceImage("training", "4.56.2", "2.8.0", "py312")
PROCESSING_IMAGE = TRAINING_IMAGE
# Serving: the newest Hugging Face inference DLC; its toolkit is what `make serve` runs locally.
INFERENCE_IMAGE = HuggingFaceImage("inference", "4.51.3", "2.6.0", "py312")

# Instance types a registered model package allows for real-time and batch inference. The
# inference DLC is the GPU build; like processing, it also runs on CPU hosts (CUDA goes
# unused), so dev may serve on ml.m5. infra/config.py refuses serving types outside this.
INFERENCE_INSTANCE_TYPES = ("ml.g5.xlarge", "ml.g5.2xlarge", "ml.g4dn.xlarge", "ml.m5.large", "ml.m5.xlarge")
