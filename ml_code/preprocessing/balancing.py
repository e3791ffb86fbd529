"""Balancing a stream of records: spill them, count labels, read back the ones kept.

Which records are kept, and what that means for sharded runs, is ``sampling``'s business.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ml_code.common.labels import ID2LABEL
from ml_code.preprocessing import sampling, spill
from ml_code.preprocessing.report import Report
from ml_code.preprocessing.tokenization import Item, Speculator

LOG = logging.getLogger(__name__)


def balanced_stream(
    records: Iterator[pa.RecordBatch], spill_path: Path, report: Report, speculator: Speculator | None = None
) -> Iterator[Item]:
    """Spill every record, then read back those balancing keeps (see ``sampling``); with a
    ``speculator``, each with the encodings it made early (``tokenization.encode_batches``)."""
    writer = spill.SpillWriter(spill_path)
    try:
        for batch in records:
            writer.write(batch)
            if speculator is not None:
                speculator.observe(batch, report.labels_before, len(ID2LABEL))
    finally:
        writer.close()
    counts = dict(report.labels_before)
    keep = sampling.quotas(counts)
    report.balance_target = min(keep.values(), default=None)
    absent = [name for label, name in ID2LABEL.items() if label not in keep]
    if keep and absent:
        LOG.warning("no %s rows here: balancing the other labels to %d rows", "/".join(absent), report.balance_target)
    LOG.info("label counts %s; keeping %s", _named(counts), _named(keep))
    limits = sampling.thresholds(lambda: spill.read_labels_and_keys(spill_path), counts, keep)
    limit_by_label = np.zeros(len(ID2LABEL), dtype=np.uint64)
    limit_by_label[list(limits)] = list(limits.values())
    for index, batch in enumerate(spill.read_batches(spill_path)):
        keys = batch.column(spill.BALANCE_KEY).to_numpy()
        keep = keys <= limit_by_label[batch.column("label_id").to_numpy()]
        early = speculator.take(index, keep) if speculator is not None else None
        if keep.any():
            yield batch.filter(pa.array(keep)), early
    if speculator is not None:
        LOG.info("encoded %d records early, %d of them kept", speculator.encoded, speculator.used)


def _named(counts: dict[int, int]) -> dict[str, int]:
    return {ID2LABEL[label]: n for label, n in sorted(counts.items())}
