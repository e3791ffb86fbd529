"""The files the processing step writes and the training and evaluation steps read.

Processing writes, under its output directory, one folder per split holding Parquet part
files named per instance (``part-<host>-<nnnnn>.parquet``), with one column per feature of
``ml_code.common.features`` except that ``input_ids`` is a list of int32 token ids there
(the feature store keeps it as a JSON string), and a ``report/`` folder with one
``processing_report-<host>.json`` per instance. Training reads the train and validation
folders as SageMaker channels; evaluation reads test.
"""

from __future__ import annotations

SPLITS: tuple[str, ...] = ("train", "validation", "test")
TRAIN, VALIDATION, TEST = SPLITS
PART_FILE_PATTERN = "part-*.parquet"
REPORT_DIR = "report"  # beside the split folders; one JSON report per instance


def part_file_name(host: str, index: int) -> str:
    """Unique per instance, so N instances can write the same S3 prefix without clashing."""
    return f"part-{host}-{index:05d}.parquet"


def report_file_name(host: str) -> str:
    return f"processing_report-{host}.json"
