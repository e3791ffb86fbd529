"""S3 mapped to a folder: ``s3://bucket/key`` is ``<root>/bucket/key``.

Copies follow the SageMaker job semantics the steps rely on: an ``S3Prefix`` input gets every
object whose key starts with the prefix, each placed at its key minus the prefix (a prefix
that is a whole key gives that one file under its base name); ``ShardedByS3Key`` gives
instance i of n every n-th object of the sorted key list; outputs upload a folder's files.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from local_runner.errors import LocalRunnerError

SCHEME = "s3://"


class LocalS3:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, uri: str) -> Path:
        """The local path of ``uri`` (which need not exist)."""
        bucket, key = split_uri(uri)
        return self.root / bucket / key if key else self.root / bucket

    def uri(self, path: Path) -> str:
        relative = Path(path).resolve().relative_to(self.root.resolve())
        return SCHEME + relative.as_posix()

    def objects(self, uri: str) -> list[tuple[str, Path]]:
        """(path relative to the prefix, local file) of every object under the prefix, sorted by key."""
        bucket, prefix = split_uri(uri)
        bucket_dir = self.root / bucket
        folder = bucket_dir / prefix.rpartition("/")[0] if "/" in prefix else bucket_dir
        if not folder.is_dir():
            return []
        found = []
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = file.relative_to(bucket_dir).as_posix()
            if key.startswith(prefix):
                relative = key[len(prefix) :].lstrip("/") or PurePosixPath(key).name
                found.append((relative, file))
        return found

    def download(self, uri: str, destination: Path, shard: tuple[int, int] | None = None) -> list[Path]:
        """Copy the objects under ``uri`` into ``destination``; ``shard`` = (index, count) for ShardedByS3Key."""
        objects = self.objects(uri)
        if not objects:
            raise LocalRunnerError(f"no S3 objects found under {uri} (local folder {self.path(uri)})")
        if shard is not None:
            index, count = shard
            objects = objects[index::count]
        destination.mkdir(parents=True, exist_ok=True)
        copied = []
        for relative, file in objects:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
            copied.append(target)
        return copied

    def upload_dir(self, source: Path, uri: str) -> list[str]:
        """Copy every file under ``source`` to ``uri``/<relative path>; returns the object URIs."""
        written = []
        base = self.path(uri)
        for file in sorted(p for p in Path(source).rglob("*") if p.is_file()):
            relative = file.relative_to(source)
            target = base / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, target)
            written.append(f"{uri.rstrip('/')}/{relative.as_posix()}")
        return written

    def put_file(self, source: Path, uri: str) -> Path:
        target = self.path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return target


def split_uri(uri: object) -> tuple[str, str]:
    """("bucket", "key") of an s3:// URI; refuses anything that could leave the mapped folder."""
    if not isinstance(uri, str) or not uri.startswith(SCHEME):
        raise LocalRunnerError(f"expected an s3:// URI, got {uri!r}")
    bucket, _, key = uri[len(SCHEME) :].partition("/")
    if not bucket or bucket in (".", "..") or "\\" in bucket:
        raise LocalRunnerError(f"{uri}: no valid bucket name")
    if any(part in (".", "..") for part in key.split("/")):
        raise LocalRunnerError(f"{uri}: '.' and '..' are not allowed in keys here")
    return bucket, key
