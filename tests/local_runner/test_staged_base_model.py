"""--base-model where the definition reads a staged base model (pipeline.base_model = s3://...).

Staging and prod carry the S3 form: Preprocess gets the folder as its ``tokenizer`` input and
Train as its ``model`` channel. The runner then copies the local folder to that URI in its
local S3 instead of rewriting a hub id, and the steps read it as they would on AWS.
"""

from __future__ import annotations

import io
import json

import pytest

from local_runner.definition import build_local_definition, steps_reading_uri
from local_runner.errors import DefinitionError, LocalRunnerError
from local_runner.local_s3 import LocalS3
from local_runner.runner import RunRequest, run_pipeline
from local_runner.step_environment import Console

STAGED = "s3://roberta-sentiment-staging-models-222222222222/base-models/roberta-base/main/"


@pytest.fixture(scope="module")
def staging():
    return build_local_definition("staging")


def test_staging_definition_reads_the_staged_folder_in_preprocess_and_train(staging):
    assert staging.base_model == STAGED
    assert steps_reading_uri(staging.definition, STAGED) == ["Preprocess: input tokenizer", "Train: channel model"]
    with pytest.raises(DefinitionError, match="no step of the definition reads s3://elsewhere/"):
        steps_reading_uri(staging.definition, "s3://elsewhere/")


def test_a_staged_definition_without_base_model_stops_before_any_run_folder(tmp_path):
    request = RunRequest(root=tmp_path, environment="staging")
    with pytest.raises(LocalRunnerError, match=r"reads its base model from s3://.*pass --base-model DIR"):
        run_pipeline(request, Console(stream=io.StringIO()))
    assert not (tmp_path / "runs").exists()


def test_base_model_is_staged_into_the_local_s3_and_preprocess_and_train_read_it(staging, tiny_roberta, tmp_path):
    # Preprocess and Train only: what reads the base model (the whole pipeline is the e2e test's).
    definition = json.loads(json.dumps(staging.definition))
    definition["Steps"] = [s for s in definition["Steps"] if s["Name"] in ("Preprocess", "Train")]
    path = tmp_path / "staging-training.json"
    path.write_text(json.dumps(definition))
    request = RunRequest(
        root=tmp_path / "root",
        environment="staging",
        definition_file=path,
        base_model=tiny_roberta,
        params={"ProcessingInstanceCount": "1", "Epochs": "1", "BatchSize": "64", "MaxSeqLength": "32"},
        execution_id="staged",
    )
    output = io.StringIO()

    outcome = run_pipeline(request, Console(stream=output))

    assert outcome.result.status == "Succeeded", outcome.result.failure_reason
    s3 = LocalS3(outcome.run_dir / "s3")
    staged = sorted(relative for relative, _ in s3.objects(STAGED))
    assert staged == sorted(p.name for p in tiny_roberta.iterdir() if p.is_file())
    printed = [line for line in output.getvalue().splitlines() if line.startswith("  base model: ")]
    assert printed == [
        f"  base model: Preprocess: input tokenizer reads {STAGED} <- staged from {tiny_roberta.resolve()}",
        f"  base model: Train: channel model reads {STAGED} <- staged from {tiny_roberta.resolve()}",
    ]
    run = json.loads(outcome.run_json.read_text())
    assert run["base_model_staged"]["uri"] == STAGED and run["base_model_staged"]["objects"] == len(staged)
    assert any("(staged in S3) filled in the local S3" in d for d in run["local_differences"])
    # The steps got the container paths the definition names, not the hub id nor the local folder.
    preprocess_log = (outcome.run_dir / "steps" / "Preprocess" / "logs" / "algo-1.log").read_text()
    assert "input/tokenizer" in preprocess_log and "roberta-base" not in preprocess_log
    train_args = json.loads((outcome.run_dir / "definition.local.json").read_text())
    train = next(s for s in train_args["Steps"] if s["Name"] == "Train")
    assert train["Arguments"]["HyperParameters"]["model_name_or_path"] == '"/opt/ml/input/data/model"'
