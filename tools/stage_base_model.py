"""Stage a Hugging Face base model in an environment's models bucket, once per account.

Jobs in private subnets have no route to the internet, so they cannot download roberta-base
from the Hugging Face hub. Run this once on a machine that can reach both the hub and the
account; it prints the S3 URI to put in cdk.json (``pipeline.base_model``), and the pipeline
then hands that folder to Preprocess (tokenizer) and Train (model channel) as job inputs.

    python -m tools.stage_base_model --model roberta-base --env staging --revision main
    python -m tools.stage_base_model --model roberta-base --env dev --from-dir build/tiny-roberta --dry-run

What it stages: the tokenizer files (tokenizer.json and its config, vocab/merges), config.json
and the weights (safetensors where the model has them, else pytorch_model.bin), under
``s3://<models bucket>/base-models/<model id>/<revision>/`` (the revision as given, else the
hub commit, else for --from-dir a digest of the files), each object SSE-KMS under the
environment's data-lake key, then ``manifest.json`` (files, sizes, sha256, source, revision,
commit) last: a prefix without a manifest is an interrupted upload and is simply re-staged.
A prefix whose manifest lists other files is never overwritten (stage another revision).
Exit 0: staged or already there; 2: usage, download or AWS error (one line on stderr).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.aws_cli import (
    DEFAULT_CDK_JSON,
    OK,
    ClientFactory,
    ToolError,
    add_aws_arguments,
    client_factory,
    error_code,
    load_environment,
    run,
)

MANIFEST = "manifest.json"
# What from_pretrained needs of a RoBERTa-like model; preprocess.py reads tokenizer.json alone.
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
)
CONFIG_FILES = ("config.json",)
SAFETENSORS = ("*.safetensors", "*.safetensors.index.json")
PYTORCH_WEIGHTS = ("pytorch_model.bin", "pytorch_model-*.bin", "pytorch_model.bin.index.json")
REQUIRED = ("config.json", "tokenizer.json")
_REVISION = re.compile(r"^[\w.-]{1,100}$")
_MODEL = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")  # as infra.config's hub ids


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def select_files(names: list[str]) -> list[str]:
    """The files worth staging out of a model repository's listing (top level only):
    tokenizer, config and one weights format, safetensors preferred (no pickle to load)."""
    top = [n for n in names if "/" not in n]
    weights = SAFETENSORS if any(_matches(n, SAFETENSORS) for n in top) else PYTORCH_WEIGHTS
    return sorted(n for n in top if n in TOKENIZER_FILES or n in CONFIG_FILES or _matches(n, weights))


def download_from_hub(model: str, revision: str | None, target: Path) -> str:
    """Download the selected files of ``model`` at ``revision`` into ``target``; returns the commit sha."""
    from huggingface_hub import HfApi, snapshot_download

    try:
        info = HfApi().model_info(model, revision=revision)
        commit = info.sha or ""
        files = select_files([s.rfilename for s in info.siblings or []])
        if not files:
            raise ToolError(f"--model {model}: the repository has no tokenizer, config or weights files")
        # Pinned to the commit just resolved: the files all come from one revision.
        snapshot_download(model, revision=commit or revision, allow_patterns=files, local_dir=str(target))
    except ToolError:
        raise
    except Exception as error:  # hub, network and HTTP errors come as many types
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ToolError(f"--model {model}: cannot download from the Hugging Face hub ({first})") from None
    return commit


def local_files(folder: Path) -> list[Path]:
    """Every file to stage under ``folder``: hidden ones (.cache/ of a hub download, .git/) and
    an earlier manifest left out."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or relative.as_posix() == MANIFEST:
            continue
        found.append(path)
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(folder: Path) -> list[dict[str, Any]]:
    """[{path, size, sha256}] of the files to stage; refuses a folder a job could not load."""
    paths = local_files(folder)
    names = {p.relative_to(folder).as_posix() for p in paths}
    missing = [name for name in REQUIRED if name not in names]
    if not any(_matches(n, SAFETENSORS) or _matches(n, PYTORCH_WEIGHTS) for n in names):
        missing.append("weights (*.safetensors or pytorch_model.bin)")
    if missing:
        raise ToolError(f"{folder}: not a loadable model folder, missing {', '.join(missing)}")
    return [{"path": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "sha256": _sha256(p)} for p in paths]


def files_digest(files: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def staged_prefix(model: str, label: str) -> str:
    """base-models/<model id>/<revision>/ (the prefix pipeline.base_model points at)."""
    from infra.config import BASE_MODELS_PREFIX

    return f"{BASE_MODELS_PREFIX}/{model}/{label}/"


def kms_key_id(config) -> str:
    """The data-lake key by its alias ARN (S3 resolves an alias ARN in the bucket's account)."""
    return f"arn:aws:kms:{config.region}:{config.account}:{config.data_lake_key_alias}"


def existing_manifest(s3, bucket: str, key: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in ("NoSuchKey", "404"):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        raise ToolError(f"s3://{bucket}/{key} is not JSON: not a staged model, choose another --revision") from None


def upload(s3, folder: Path, manifest: dict, bucket: str, prefix: str, key_id: str) -> list[str]:
    """Upload the files, then the manifest; returns the keys written ([] when already staged)."""
    from boto3.s3.transfer import TransferConfig

    manifest_key = prefix + MANIFEST
    found = existing_manifest(s3, bucket, manifest_key)
    if found is not None:
        if found.get("files") == manifest["files"]:
            return []
        raise ToolError(
            f"s3://{bucket}/{prefix} holds a different model (its {MANIFEST} lists other files):"
            " stage under another --revision, or delete that prefix first"
        )
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_id}
    # Threads only pay for large weights; one at a time keeps the order (and tests) simple.
    transfer = TransferConfig(use_threads=False, multipart_chunksize=64 * 1024 * 1024)
    written = []
    for entry in manifest["files"]:
        key = prefix + entry["path"]
        s3.upload_file(str(folder / entry["path"]), bucket, key, ExtraArgs=encryption, Config=transfer)
        print(f"  uploaded s3://{bucket}/{key} ({entry['size']:,} bytes)", file=sys.stderr, flush=True)
        written.append(key)
    s3.put_object(
        Bucket=bucket,
        Key=manifest_key,
        Body=(json.dumps(manifest, indent=2) + "\n").encode(),
        ContentType="application/json",
        **encryption,
    )
    written.append(manifest_key)
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.stage_base_model",
        description=__doc__.split("\n\n")[0]
        + " Downloads the model from the Hugging Face hub (or takes --from-dir), uploads it SSE-KMS"
        " under s3://<models bucket>/base-models/<model>/<revision>/ with a manifest.json, and"
        " prints the URI for cdk.json's pipeline.base_model.",
        epilog="Exit 0: staged (or already staged); 2: usage, download or AWS error.",
    )
    parser.add_argument("--model", required=True, help="Hugging Face model id, e.g. roberta-base")
    parser.add_argument("--env", required=True, help="environment in cdk.json whose models bucket and key to use")
    parser.add_argument(
        "--revision",
        help="hub revision to download (branch, tag or commit) and the prefix's last part"
        " (default: the hub's current commit sha; with --from-dir a digest of the files)",
    )
    parser.add_argument(
        "--bucket",
        help="bucket to stage into (default: the environment's models bucket, the only one cdk.json accepts"
        " for pipeline.base_model: the pipeline role reads its base-models/ prefix alone)",
    )
    parser.add_argument(
        "--from-dir",
        type=Path,
        metavar="DIR",
        help="stage this local model folder (from save_pretrained or an earlier download) instead of downloading",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="download and describe, print the manifest and URI; upload nothing"
    )
    parser.add_argument("--cdk-json", type=Path, default=DEFAULT_CDK_JSON, help="default: ./cdk.json")
    add_aws_arguments(parser)
    return parser


def stage(args: argparse.Namespace, clients: ClientFactory | None) -> int:
    if not _MODEL.match(args.model):
        raise ToolError(f"--model {args.model!r}: expected a Hugging Face model id like roberta-base")
    if args.revision is not None and not _REVISION.match(args.revision):
        raise ToolError(f"--revision {args.revision!r}: letters, digits and ._- only (it names an S3 prefix)")
    if args.from_dir is not None and not args.from_dir.is_dir():
        raise ToolError(f"--from-dir {args.from_dir}: not a folder")
    config = load_environment(args.env, args.cdk_json)
    bucket = args.bucket or config.models_bucket_name
    with tempfile.TemporaryDirectory(prefix="stage-base-model-") as scratch:
        if args.from_dir is not None:
            folder, commit, source = args.from_dir, None, f"local folder {args.from_dir.resolve()}"
        else:
            folder, source = Path(scratch), "https://huggingface.co/" + args.model
            print(f"Downloading {args.model} ({args.revision or 'current commit'}) from the hub", file=sys.stderr)
            commit = download_from_hub(args.model, args.revision, folder)
        files = describe_files(folder)
        label = args.revision or commit or "sha256-" + files_digest(files)[:16]
        prefix = staged_prefix(args.model, label)
        manifest = {
            "model_id": args.model,
            "source": source,
            "revision": args.revision,
            "commit": commit,
            "files": files,
            "staged_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        uri = f"s3://{bucket}/{prefix}"
        if args.dry_run:
            print(json.dumps(manifest, indent=2), file=sys.stderr)
            print(f"dry run: would upload {len(files)} files and {MANIFEST} to {uri} (SSE-KMS)", file=sys.stderr)
        else:
            s3 = (clients or client_factory(args.region or config.region, args.assume_role_arn))("s3")
            written = upload(s3, folder, manifest, bucket, prefix, kms_key_id(config))
            state = f"staged {len(written) - 1} files and {MANIFEST}" if written else "already staged (same files)"
            print(f"{state}: {uri}", file=sys.stderr)
    print(f"put in cdk.json: context.mlops.environments.{args.env}.pipeline.base_model = {uri}", file=sys.stderr)
    print(uri)
    return OK


def main(argv: list[str] | None = None, clients: ClientFactory | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(lambda: stage(args, clients))


if __name__ == "__main__":
    sys.exit(main())
