"""Split membership and balancing, both deterministic functions of the review id.

Every record gets two independent 64-bit keys from one BLAKE2b hash of its review id: a
split key and a balance key. The split is chosen by where the split key falls in
[0, 1) against the cumulative split fractions; balancing keeps, per label, the records
with the lowest balance keys.

Sharded runs (ShardedByS3Key: each instance sees only its own files) compared with one
run over all the files:

Identical, record by record
  - validation, cleaning and rejection reason; the review id (the source's, or derived
    from the file's path below the input folder and the record's index in it); labels;
    event time when the source has dates; token ids;
  - split membership: it depends on the id alone, so a record lands in the same split
    whichever instance processes it and whatever else that instance sees.

Not identical: which records balancing keeps. Downsampling to the smallest label needs
label counts, and an instance only counts its own shard (instances do not talk to each
other). Each run keeps, per label, the ``k`` records with the lowest balance keys, ``k``
being the smallest label count that run saw. So:
  - one run keeps exactly ``k = min label count`` records of every label;
  - an N-way sharded run is exactly balanced on every instance (``k_s`` per label), hence
    exactly balanced overall, with ``sum(k_s) <= k`` records per label: fewer when the
    shards' smallest labels are not the global one. A shard lacking a label entirely
    balances the labels it has (with a warning), and the overall balance is then off by
    that shard's share;
  - within one shard and label, both runs keep a lowest-key prefix of the same key order,
    so one kept set contains the other: the runs differ only at the margin, in records
    dropped or added, never in unrelated records swapped. They coincide when every
    shard's threshold equals the global one (e.g. one shard).
Splits are stratified in expectation: a label's records fall into train/validation/test
with the configured probabilities. Exact per-label quotas would depend on which records
a run sees, hence on the sharding. Balance keys are independent of split keys, so
balancing does not skew the split proportions. Records sharing an id share their keys
(duplicate ids are the only way a run can keep more than ``k`` of a label).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np

_PERSON = b"ml_code.sampling"  # domain separation: other BLAKE2b uses of the ids give other keys
KEEP_ALL = np.iinfo(np.uint64).max


def record_keys(review_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(split keys, balance keys) as uint64 arrays."""
    digests = b"".join(hashlib.blake2b(i.encode("utf-8"), digest_size=16, person=_PERSON).digest() for i in review_ids)
    keys = np.frombuffer(digests, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return keys[:, 0], keys[:, 1]


def assign_splits(split_keys: np.ndarray, fractions: Sequence[float]) -> np.ndarray:
    """Index into ``fractions`` per key. The top 53 bits make an exact float in [0, 1)."""
    position = (split_keys >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    bounds = np.cumsum(fractions)[:-1]
    return np.searchsorted(bounds, position, side="right")


def quotas(label_counts: dict[int, int]) -> dict[int, int]:
    """Records to keep per label: the smallest count among the labels present."""
    present = {label: n for label, n in label_counts.items() if n > 0}
    if not present:
        return {}
    smallest = min(present.values())
    return {label: smallest for label in present}


def kth_smallest(batches: Iterable[np.ndarray], k: int) -> int:
    """The k-th smallest value (1-based) of a stream of arrays, holding O(k + batch) values."""
    pool: list[np.ndarray] = []
    size = 0
    for batch in batches:
        pool.append(batch)
        size += len(batch)
        if size > 2 * k:  # at least k values arrive between prunes: amortised O(1) per value
            pool, size = [np.partition(np.concatenate(pool), k - 1)[:k]], k
    if size < k:
        raise ValueError(f"stream has {size} values, fewer than k={k}")
    return int(np.partition(np.concatenate(pool), k - 1)[k - 1])


def thresholds(
    read_batches: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]],
    label_counts: dict[int, int],
    keep: dict[int, int],
) -> dict[int, int]:
    """Per label, the largest balance key kept: keep a record iff its key <= its label's threshold.

    ``read_batches()`` yields (labels, balance keys); it is read once per downsampled label.
    """
    result = {}
    for label, k in keep.items():
        if k >= label_counts[label]:
            result[label] = int(KEEP_ALL)
        else:
            result[label] = kth_smallest((keys[labels == label] for labels, keys in read_batches()), k)
    return result
