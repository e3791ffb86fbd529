"""tools.stage_base_model: the tiny model staged into a Stubber-backed S3 (moto is not installed)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY

from tests.conftest import ROOT
from tools.stage_base_model import main, select_files

BUCKET = "roberta-sentiment-staging-models-222222222222"
PREFIX = "base-models/roberta-base/main/"
KEY_ID = "arn:aws:kms:us-east-1:222222222222:alias/roberta-sentiment-staging-data-lake"
ARGS = ["--model", "roberta-base", "--env", "staging", "--revision", "main"]


@pytest.fixture
def cdk_json_path():
    return ROOT / "cdk.json"


@pytest.fixture
def model_dir(tiny_roberta, tmp_path):
    """The tiny model plus what a hub download leaves that must not be staged."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_roberta, folder)
    (folder / ".cache" / "huggingface").mkdir(parents=True)
    (folder / ".cache" / "huggingface" / "download.lock").write_text("x")
    return folder


def _record_puts(client) -> list[dict]:
    puts: list[dict] = []
    client.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: puts.append(dict(params)))
    return puts


def _expect_uploads(stubber, names: list[str]) -> None:
    stubber.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    for name in names:
        stubber.add_response(
            "put_object",
            {},
            {
                "Bucket": BUCKET,
                "Key": PREFIX + name,
                "Body": ANY,
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": KEY_ID,
                "ChecksumAlgorithm": ANY,
            },
        )
    stubber.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": PREFIX + "manifest.json",
            "Body": ANY,
            "ContentType": "application/json",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": KEY_ID,
        },
    )


def test_stages_every_file_sse_kms_then_the_manifest_and_prints_the_uri(aws, model_dir, capsys, cdk_json_path):
    names = sorted(p.name for p in model_dir.iterdir() if p.is_file())
    assert {"config.json", "tokenizer.json", "model.safetensors"} <= set(names)
    stubber = aws.stub("s3")
    _expect_uploads(stubber, names)
    puts = _record_puts(aws.clients["s3"])

    assert main([*ARGS, "--from-dir", str(model_dir), "--cdk-json", str(cdk_json_path)], clients=aws) == 0

    assert [p["Key"] for p in puts] == [PREFIX + n for n in names] + [PREFIX + "manifest.json"]
    manifest = json.loads(puts[-1]["Body"])
    assert manifest["model_id"] == "roberta-base" and manifest["revision"] == "main" and manifest["commit"] is None
    assert manifest["source"].startswith("local folder ")
    assert [f["path"] for f in manifest["files"]] == names  # no .cache/, no manifest of its own
    for entry in manifest["files"]:
        data = (model_dir / entry["path"]).read_bytes()
        assert entry["size"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    out = capsys.readouterr()
    assert out.out.strip().splitlines()[-1] == f"s3://{BUCKET}/{PREFIX}"
    assert "staging.pipeline.base_model" in out.err


def _manifest_body(manifest: dict) -> StreamingBody:
    raw = json.dumps(manifest).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_same_files_already_staged_upload_nothing(aws, model_dir, capsys, cdk_json_path, tmp_path):
    # A first (dry) run gives the manifest the prefix would hold.
    assert main([*ARGS, "--from-dir", str(model_dir), "--dry-run", "--cdk-json", str(cdk_json_path)]) == 0
    manifest = json.loads(capsys.readouterr().err.split("dry run:")[0])
    aws.stub("s3").add_response("get_object", {"Body": _manifest_body(manifest)})

    assert main([*ARGS, "--from-dir", str(model_dir), "--cdk-json", str(cdk_json_path)], clients=aws) == 0
    assert "already staged" in capsys.readouterr().err


def test_a_prefix_holding_another_model_is_never_overwritten(aws, model_dir, capsys, cdk_json_path):
    other = {"files": [{"path": "config.json", "size": 1, "sha256": "0" * 64}]}
    aws.stub("s3").add_response("get_object", {"Body": _manifest_body(other)})

    assert main([*ARGS, "--from-dir", str(model_dir), "--cdk-json", str(cdk_json_path)], clients=aws) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: s3://{BUCKET}/{PREFIX} holds a different model")


def test_dry_run_calls_no_aws_and_names_a_digest_revision_without_one(model_dir, capsys, cdk_json_path):
    def no_aws(service):
        raise AssertionError(f"dry run asked for a {service} client")

    argv = ["--model", "roberta-base", "--env", "dev", "--from-dir", str(model_dir), "--dry-run"]
    assert main([*argv, "--cdk-json", str(cdk_json_path)], clients=no_aws) == 0
    uri = capsys.readouterr().out.strip()
    assert uri.startswith("s3://roberta-sentiment-dev-models-111111111111/base-models/roberta-base/sha256-")
    assert uri.endswith("/")


@pytest.mark.parametrize(
    ("remove", "extra", "message"),
    [
        ("model.safetensors", [], "missing weights"),
        ("tokenizer.json", [], "missing tokenizer.json"),
        (None, ["--revision", "refs/pr/1"], "--revision 'refs/pr/1': letters, digits and ._- only"),
        (None, ["--env", "qa"], "no environment 'qa'"),
    ],
)
def test_errors_are_one_line(model_dir, capsys, cdk_json_path, remove, extra, message):
    if remove:
        (model_dir / remove).unlink()
    argv = ["--model", "roberta-base", "--env", "dev", "--from-dir", str(model_dir), "--dry-run", *extra]
    assert main([*argv, "--cdk-json", str(cdk_json_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_hub_listing_prefers_safetensors_and_keeps_tokenizer_and_config():
    listing = [
        ".gitattributes",
        "README.md",
        "config.json",
        "dict.txt",
        "flax_model.msgpack",
        "merges.txt",
        "model.safetensors",
        "pytorch_model.bin",
        "rust_model.ot",
        "tf_model.h5",
        "tokenizer.json",
        "vocab.json",
        "onnx/model.onnx",
    ]
    assert select_files(listing) == ["config.json", "merges.txt", "model.safetensors", "tokenizer.json", "vocab.json"]
    assert "pytorch_model.bin" in select_files(["config.json", "pytorch_model.bin", "tokenizer.json"])


def test_help_explains_the_prefix_and_the_config_key(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "base-models/<model>/<revision>/" in text and "pipeline.base_model" in text and "--from-dir" in text
