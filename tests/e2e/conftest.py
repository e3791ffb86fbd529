"""One real local server (SageMaker's Hugging Face toolkit on multi-model-server) per test session.

Teardown stops the server's whole process group; ``LocalServer.stop`` raises if anything
survives, so a leaked process fails the run instead of lingering.
"""

from __future__ import annotations

import os

import pytest

from tests.ml_code.inference_cases import LIMITS
from tests.ml_code.training_fixtures import TORCH_THREADS, trained_run
from tools.serve import LocalServer, free_port


@pytest.fixture(scope="session")
def server(tmp_path_factory, tiny_roberta):
    trained = trained_run(tmp_path_factory, tiny_roberta)
    env = {**os.environ, **LIMITS, "OMP_NUM_THREADS": str(TORCH_THREADS)}
    local = LocalServer(trained / "model.tar.gz", tmp_path_factory.mktemp("srv"), port=free_port(), env=env)
    local.start(timeout=180)
    try:
        yield local
    finally:
        local.stop()
