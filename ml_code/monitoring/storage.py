"""Read-only storage for the monitoring job: s3:// URIs through boto3, anything else a local path.

Files are streamed line by line (``lines``), never read whole, so a large capture window costs
the job no memory; ``.gz`` files are unpacked on the fly. One S3 client per process.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Iterator
from pathlib import Path

S3 = "s3://"


def is_s3(uri: str) -> bool:
    return str(uri).startswith(S3)


def split_s3(uri: str) -> tuple[str, str]:
    """'s3://bucket/a/b' -> ('bucket', 'a/b')."""
    bucket, _, key = str(uri)[len(S3) :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return bucket, key


def join(uri: str, *parts: str) -> str:
    return "/".join([str(uri).rstrip("/"), *(p.strip("/") for p in parts if p)])


@functools.cache
def _s3():
    import boto3

    return boto3.client("s3")


def subfolders(uri: str) -> list[str]:
    """Names of the folders directly under ``uri`` (sorted), e.g. the capture prefix's variants."""
    if not is_s3(uri):
        path = Path(uri)
        return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []
    bucket, key = split_s3(join(uri, "") + "/")
    names = []
    for page in _s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key, Delimiter="/"):
        names += [p["Prefix"][len(key) :].strip("/") for p in page.get("CommonPrefixes", [])]
    return sorted(names)


def files(uri: str) -> Iterator[str]:
    """Every file under ``uri``, recursively, in name order (an empty iterator if there is none)."""
    if not is_s3(uri):
        path = Path(uri)
        if path.is_file():
            yield str(path)
        elif path.is_dir():
            yield from (str(p) for p in sorted(path.rglob("*")) if p.is_file())
        return
    bucket, key = split_s3(uri)
    prefix = key.rstrip("/") + "/" if key else ""
    for page in _s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].endswith("/"):
                yield f"{S3}{bucket}/{item['Key']}"


def _open(uri: str):
    if is_s3(uri):
        bucket, key = split_s3(uri)
        return _s3().get_object(Bucket=bucket, Key=key)["Body"]
    return open(uri, "rb")


def lines(uri: str, chunk_size: int = 1 << 20) -> Iterator[str]:
    """The file's lines as text (UTF-8, split at "\\n" only), streamed; gzip undone for '.gz'."""
    raw = _open(uri)
    try:
        stream = gzip.GzipFile(fileobj=raw) if str(uri).endswith(".gz") else raw
        pending = b""
        while chunk := stream.read(chunk_size):
            *complete, pending = (pending + chunk).split(b"\n")
            yield from (line.decode("utf-8", errors="replace") for line in complete)
        if pending:
            yield pending.decode("utf-8", errors="replace")
    finally:
        raw.close()


def read_bytes(uri: str) -> bytes:
    raw = _open(uri)
    try:
        return raw.read()
    finally:
        raw.close()
