"""Exact duplicate reviews: a review id seen again is dropped and counted (``duplicate_id``).

Scope: one job on one instance, across all its files and in their order (the first
occurrence is kept). Instances do not talk to each other, so with ShardedByS3Key a
review whose copies sit in files of different instances is kept once per instance; the
report says so. Only ids from the source's id column can repeat: ids derived from the
file's path and row (sources without one) are unique by construction, so those files
skip the check, and two copies of one file under two names are not duplicates.

Memory: each distinct id is held as one 64-bit key (its balance key, a BLAKE2b digest of
the id: ``sampling.record_keys``), in sorted runs merged like a binary counter, so at most
8 bytes per distinct id kept on this instance plus as much again while two runs merge
(10 million ids: 80 MB, 160 MB at a merge), and ~log2(ids / batch) runs to search. Two
different ids share a key with probability about n^2 / 2^65 (1e-6 for 6 million ids);
the later one would then be counted as a duplicate.
"""

from __future__ import annotations

import numpy as np

SCOPE = (
    "review ids from the source's id column, within this instance's files (instances do not compare);"
    " files without an id column get ids derived from path and row, which never repeat"
)


class SeenIds:
    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []  # sorted, disjoint uint64 arrays, sizes decreasing
        self.size = 0

    def _seen(self, keys: np.ndarray) -> np.ndarray:
        found = np.zeros(len(keys), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, keys).clip(max=len(run) - 1)
            found |= run[at] == keys
        return found

    def first_seen(self, keys: np.ndarray) -> np.ndarray:
        """True where ``keys[i]`` occurs neither earlier in ``keys`` nor in any earlier call;
        those keys are then remembered."""
        keys = np.asarray(keys, dtype=np.uint64)
        new = np.zeros(len(keys), dtype=bool)
        if not len(keys):
            return new
        unique, first = np.unique(keys, return_index=True)
        fresh = ~self._seen(unique)
        new[first[fresh]] = True
        self._add(unique[fresh])
        return new

    def _add(self, run: np.ndarray) -> None:
        if not len(run):
            return
        self.size += len(run)
        while self._runs and len(self._runs[-1]) <= len(run):
            run = np.union1d(self._runs.pop(), run)  # both sorted, disjoint: sorted result
        self._runs.append(run)
