"""What a dataset drop is, and which pipeline execution it starts.

A drop is a folder of review files in the raw bucket closed by a ``_SUCCESS`` marker
object, written last (the Hadoop/Spark convention). The marker, not each file, triggers
exactly one execution, with the folder as the pipeline's ``InputDataUri``. The execution's
client token is derived from the marker's key and ETag, so EventBridge redelivering the
same event cannot start a second execution, while re-dropping the folder (a new marker
object) deliberately starts a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

MARKER = "_SUCCESS"


class NotADrop(ValueError):
    """The event is not a dataset marker this function should act on."""


@dataclass(frozen=True)
class Drop:
    bucket: str
    prefix: str  # folder of the dataset, ending in "/"
    marker_etag: str

    @property
    def input_data_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def client_request_token(self) -> str:
        # StartPipelineExecution accepts 32-128 characters; a digest is stable and fits.
        return hashlib.sha256(f"{self.bucket}/{self.prefix}{MARKER}@{self.marker_etag}".encode()).hexdigest()


def drop_from_event(detail: dict[str, Any]) -> Drop:
    """The Drop an S3 "Object Created" EventBridge event's detail describes; NotADrop otherwise."""
    try:
        bucket = detail["bucket"]["name"]
        key = unquote_plus(detail["object"]["key"])
        etag = detail["object"].get("etag", "")
    except (KeyError, TypeError) as error:
        raise NotADrop(f"not an S3 object event: missing {error}") from None
    folder, _, name = key.rpartition("/")
    if name != MARKER:
        raise NotADrop(f"s3://{bucket}/{key} is not a {MARKER} marker")
    if not folder:
        raise NotADrop(f"s3://{bucket}/{key}: a marker at the bucket root names no dataset folder")
    return Drop(bucket=bucket, prefix=f"{folder}/", marker_etag=etag)
