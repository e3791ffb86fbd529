"""The split files: Arrow schema from the feature definitions, one Parquet part per split and host.

The schema is derived from ``ml_code.common.features.FEATURES`` (the feature group's source
too), so the files and the feature group cannot drift apart. ``input_ids`` is the one
deliberate difference: list<int32> here, a JSON string in the Feature Store.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ml_code.common.features import FEATURES, Feature
from ml_code.common.splits import SPLITS, part_file_name

INPUT_IDS = "input_ids"
ARROW_TYPES: dict[str, pa.DataType] = {"Integral": pa.int64(), "Fractional": pa.float64(), "String": pa.string()}


def arrow_type(feature: Feature) -> pa.DataType:
    # int32 halves the size of the biggest column; RoBERTa vocabularies are far below 2**31.
    return pa.list_(pa.int32()) if feature.name == INPUT_IDS else ARROW_TYPES[feature.type]


SCHEMA = pa.schema([pa.field(f.name, arrow_type(f), nullable=False) for f in FEATURES])


class SplitWriters:
    """One ParquetWriter per split, opened on first write; ``close`` leaves every split with a
    file (empty if need be), so readers of a split folder always find the schema."""

    def __init__(self, output_dir: Path, host: str) -> None:
        self._paths = {split: output_dir / split / part_file_name(host, 0) for split in SPLITS}
        self._writers: dict[str, pq.ParquetWriter] = {}

    def write(self, table: pa.Table) -> None:
        """Write ``table`` (SCHEMA) to the split named by each row's split_type."""
        for split in SPLITS:
            rows = table.filter(pc.equal(table["split_type"], split))
            if rows.num_rows:
                self._writer(split).write_table(rows)

    def _writer(self, split: str) -> pq.ParquetWriter:
        if split not in self._writers:
            self._paths[split].parent.mkdir(parents=True, exist_ok=True)
            self._writers[split] = pq.ParquetWriter(self._paths[split], SCHEMA)
        return self._writers[split]

    def close(self) -> dict[str, Path]:
        for split in SPLITS:
            self._writer(split).close()
        return dict(self._paths)
