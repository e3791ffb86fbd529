"""The training pipeline's image: the Hugging Face training DLC plus the MLflow client.

containers/training/Dockerfile builds on the DLC the pipeline ran before (build argument
BASE_IMAGE, the URI ``image_uris_for(region).training`` resolves offline) and installs the
pinned mlflow-skinny and sagemaker-mlflow of containers/training/requirements.txt: the DLC
has no MLflow and jobs download nothing at run time. A DockerImageAsset: synth only records
it (no Docker needed); `cdk deploy` or the delivery pipeline's asset step builds and pushes it
to the bootstrap container repository of the environment's account.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr_assets as ecr_assets
from constructs import Construct

IMAGE_DIR = Path(__file__).resolve().parents[2] / "containers" / "training"
BASE_IMAGE_ARG = "BASE_IMAGE"


class TrainingImage(Construct):
    """``base_image_uri``: the DLC the image builds on. ``image_uri``: what the jobs run;
    ``repository``: (account, repository name) the jobs' role must be allowed to pull from."""

    def __init__(self, scope: Construct, construct_id: str, *, base_image_uri: str) -> None:
        super().__init__(scope, construct_id)
        self.base_image_uri = base_image_uri
        self.asset = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(IMAGE_DIR),
            build_args={BASE_IMAGE_ARG: base_image_uri},
            # SageMaker runs x86_64 images; a build on an ARM machine must not change that.
            platform=ecr_assets.Platform.LINUX_AMD64,
        )
        self.image_uri = self.asset.image_uri
        self.repository = (cdk.Stack.of(self).account, self.asset.repository.repository_name)
