"""The cleaned records, held in an Arrow IPC file on local disk while balancing counts labels.

Balancing needs every label's count before it can keep or drop a record; spilling the
cleaned records lets them be read back (memory-mapped, batch by batch) instead of
parsing and cleaning the input twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from ml_code.preprocessing.output import INPUT_IDS, SCHEMA

BALANCE_KEY = "balance_key"
SPILL_SCHEMA = pa.schema(
    [f for f in SCHEMA if f.name != INPUT_IDS] + [pa.field(BALANCE_KEY, pa.uint64(), nullable=False)]
)


class SpillWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        # lz4: texts shrink about 2x for little CPU, which matters for large shards on /tmp.
        self._writer = pa.ipc.new_file(path, SPILL_SCHEMA, options=pa.ipc.IpcWriteOptions(compression="lz4"))

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def close(self) -> None:
        self._writer.close()


def read_batches(path: Path) -> Iterator[pa.RecordBatch]:
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)


def read_labels_and_keys(path: Path) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for batch in read_batches(path):
        yield batch.column("label_id").to_numpy(), batch.column(BALANCE_KEY).to_numpy()
