"""The endpoint's data capture, read hour folder by hour folder, streamed, into bounded samples.

SageMaker writes capture files to <capture uri>/<variant>/<yyyy>/<mm>/<dd>/<hh>/<name>.jsonl
(UTC hour of the request). A window of N hours ending at T is the N whole hour folders before
T's hour: T = 03:00:12 and N = 1 read the 02 folder, which is complete by then (the job starts
after the hour, as Model Monitor's hourly schedule did). Every variant is read; each record
keeps its variant name and hour.

Each line goes through record_preprocessor.record_texts (the same parsing as the baseline and
Model Monitor's preprocessor). A line that is no JSON object counts as malformed_lines, a
request of a content type the endpoint does not serve as unknown_content_type, any other
unreadable record as unreadable_records; none of them stops the scan. ``Reservoir`` keeps a
uniform sample of at most k rows however many stream past, so memory stays flat.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

from ml_code.monitoring import storage
from ml_code.monitoring.record_preprocessor import RecordError, UnknownContentType, record_texts

LOG = logging.getLogger("ml_code.monitoring.capture")
HOUR_FORMAT = "%Y/%m/%d/%H"


def parse_time(text: str | None) -> datetime:
    """ISO 8601 -> aware UTC datetime; None or "now" -> now. Accepts SageMaker's
    ExecutionVariables.START_DATETIME ('2026-12-02T03:00:12.345Z'); no zone means UTC."""
    if text is None or str(text).strip().lower() in ("", "now"):
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"window end {text!r} is not an ISO 8601 time (e.g. 2026-12-02T03:00:12Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def hour_folders(end: datetime, hours: int) -> list[str]:
    """'yyyy/mm/dd/hh' of the ``hours`` whole hours before ``end``'s hour, oldest first."""
    top = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [(top - timedelta(hours=back)).strftime(HOUR_FORMAT) for back in range(hours, 0, -1)]


def records(capture_uri: str, hours: Iterable[str], counts: Counter) -> Iterator[dict]:
    """Each usable captured record of those hour folders, all variants, as record_texts' dict
    plus "variant" and "hour"; counts updated as lines go by."""
    variants = storage.subfolders(capture_uri)
    counts["variants"] = len(variants)
    for hour in hours:
        for variant in variants:
            for uri in storage.files(storage.join(capture_uri, variant, hour)):
                counts["files"] += 1
                LOG.debug("[capture] reading %s", uri)
                for line in storage.lines(uri):
                    record = parse_line(line, counts)
                    if record is not None:
                        yield {**record, "variant": variant, "hour": hour}
        LOG.info(
            "[capture] %s read: %d files, %d lines, %d records so far",
            hour,
            counts["files"],
            counts["lines"],
            counts["records"],
        )


def parse_line(line: str, counts: Counter) -> dict | None:
    """One capture line -> record_texts' dict, or None (counted by why)."""
    if not line.strip():
        return None
    counts["lines"] += 1
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        counts["malformed_lines"] += 1
        return None
    if not isinstance(event, dict):
        counts["malformed_lines"] += 1
        return None
    try:
        record = record_texts(event)
    except UnknownContentType:
        counts["unknown_content_type"] += 1
        return None
    except (RecordError, AttributeError, TypeError) as error:
        counts["unreadable_records"] += 1
        LOG.debug("[capture] unreadable record: %s", error)
        return None
    counts["records"] += 1
    counts["texts"] += len(record["texts"])
    return record


def rows(record: dict) -> Iterator[dict]:
    """The record's texts as flat rows: review_text, FEATURES, and where it came from."""
    for index, (text, features) in enumerate(zip(record["texts"], record["rows"], strict=True)):
        yield {
            "review_text": text,
            **features,
            "variant": record["variant"],
            "inference_id": record["inference_id"],
            "inference_time": record["inference_time"],
            "index": index,
        }


Item = TypeVar("Item")


class Reservoir(Generic[Item]):
    """A uniform random sample of at most ``size`` items of a stream (Vitter's algorithm R)."""

    def __init__(self, size: int, seed: int = 0):
        self.size, self.seen = size, 0
        self.items: list[Item] = []
        self._random = random.Random(seed)

    def add(self, item: Item) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            slot = self._random.randrange(self.seen)
            if slot < self.size:
                self.items[slot] = item
