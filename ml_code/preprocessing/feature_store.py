"""Put the written records into the Feature Store group, never silently.

Records go through ``put_record`` from a bounded thread pool. Throttling and transient
errors are retried with exponential backoff and jitter; records still failing are counted
by error code. After each batch, the job fails if more than ``max_failure_rate`` of the
records attempted so far failed; it fails at once on errors no record can overcome (no
such feature group, no permission).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from ml_code.common.features import FEATURES, Feature
from ml_code.preprocessing.errors import FeatureStoreError
from ml_code.preprocessing.output import INPUT_IDS

LOG = logging.getLogger(__name__)
RETRYABLE_ERRORS = frozenset(
    (
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServerError",
    )
)
# No record can succeed after these: fail the job at once rather than count them one by one.
FATAL_ERRORS = frozenset(
    (
        "AccessForbidden",
        "AccessDeniedException",
        "ResourceNotFound",
        "UnrecognizedClientException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
    )
)
_LOGGED_FAILURES = 10  # then only counted, so a bad run does not flood the log


@dataclass(frozen=True)
class IngestSettings:
    feature_group_name: str
    concurrency: int = 8
    max_attempts: int = 5
    base_delay: float = 0.2  # seconds before the first retry, doubled for each next one
    max_delay: float = 10.0
    max_failure_rate: float = 0.01


@dataclass
class IngestStats:
    feature_group: str | None = None  # None: ingestion off
    put: int = 0
    failed: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs as keys.
        return {
            "feature_group": self.feature_group,
            "put": self.put,
            "failed": self.failed,
            "retries": self.retries,
            "errors": dict(self.errors),
        }


def feature_value(feature: Feature, value: Any) -> str:
    """Feature Store takes every type as a string; input_ids as compact JSON."""
    if feature.name == INPUT_IDS:
        return json.dumps(list(value), separators=(",", ":"))
    if feature.type == "Integral":
        return str(int(value))
    if feature.type == "Fractional":
        return repr(float(value))
    return str(value)


def to_record(row: dict[str, Any]) -> list[dict[str, str]]:
    return [{"FeatureName": f.name, "ValueAsString": feature_value(f, row[f.name])} for f in FEATURES]


def make_client(concurrency: int):
    import boto3
    from botocore.config import Config

    # Retries are ours (counted, reported); botocore's own would multiply them.
    config = Config(retries={"total_max_attempts": 1}, max_pool_connections=concurrency)
    return boto3.client("sagemaker-featurestore-runtime", config=config)


class Ingestor:
    """``put_table`` per batch of written records, then ``close``."""

    def __init__(
        self,
        settings: IngestSettings,
        client_factory: Callable = make_client,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.stats = IngestStats(settings.feature_group_name)
        self._client_factory, self._sleep = client_factory, sleep
        self._client: Any = None
        self._random = random.Random()
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="put-record")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def put_table(self, table: pa.Table) -> None:
        if self._client is None:  # created on first use: no AWS session unless ingesting
            self._client = self._client_factory(self.settings.concurrency)
        rows = table.to_pylist()
        for row, (code, retries) in zip(rows, self._pool.map(self._put, rows), strict=True):
            self.stats.retries += retries
            if code is None:
                self.stats.put += 1
                continue
            self.stats.failed += 1
            self.stats.errors[code] += 1
            if self.stats.failed <= _LOGGED_FAILURES:
                LOG.warning("put_record failed for review_id %s: %s after %d retries", row["review_id"], code, retries)
        attempted = self.stats.put + self.stats.failed
        if self.stats.failed > self.settings.max_failure_rate * attempted:
            raise FeatureStoreError(
                f"feature group {self.settings.feature_group_name!r}: {self.stats.failed} of {attempted} records"
                f" failed, more than {self.settings.max_failure_rate:.2%} ({dict(self.stats.errors)})"
            )

    def _put(self, row: dict[str, Any]) -> tuple[str | None, int]:
        """(None once stored, else the last error code; retries made). Runs in the pool."""
        record = to_record(row)
        attempt = 0
        while True:
            attempt += 1
            try:
                self._client.put_record(FeatureGroupName=self.settings.feature_group_name, Record=record)
                return None, attempt - 1
            except ClientError as exc:
                code = exc.response["Error"].get("Code", "Unknown")
                retryable = code in RETRYABLE_ERRORS
            except (BotoConnectionError, HTTPClientError) as exc:  # network trouble: worth another try
                code, retryable = type(exc).__name__, True
            if code in FATAL_ERRORS:
                raise FeatureStoreError(f"feature group {self.settings.feature_group_name!r}: {code} on put_record")
            if not retryable or attempt >= self.settings.max_attempts:
                return code, attempt - 1
            delay = min(self.settings.max_delay, self.settings.base_delay * 2 ** (attempt - 1))
            self._sleep(delay * self._random.uniform(0.5, 1.0))
