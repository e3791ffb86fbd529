"""Split files -> training examples, and the batch collators (dynamic or fixed padding).

Reads the split-file contract of ``ml_code.common.splits``: a folder of Parquet part files
with unpadded ``input_ids`` (starting with <s>, ending with </s>) and ``label_id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from ml_code.common.splits import PART_FILE_PATTERN


class Example(TypedDict):
    """One training example: the names Trainer feeds the model."""

    input_ids: list[int]
    labels: int


def part_files(folder: Path) -> list[Path]:
    """Sorted, so every process and every restart sees the same example order."""
    files = sorted(Path(folder).glob(PART_FILE_PATTERN))
    if not files:
        raise ValueError(f"no {PART_FILE_PATTERN} files in {folder}: expected a split folder written by preprocessing")
    return files


def truncate(ids: list[int], max_length: int, eos_id: int) -> list[int]:
    """Cut to max_length but keep the closing </s>, which RoBERTa saw at the end of every sequence."""
    if len(ids) <= max_length:
        return ids
    return ids[: max_length - 1] + [eos_id]


def read_split(folder: Path, max_length: int, eos_id: int) -> list[Example]:
    """All examples of one split as {"input_ids", "labels"} dicts (the names Trainer feeds the model)."""
    import pyarrow.parquet as pq

    examples: list[Example] = []
    for path in part_files(folder):
        table = pq.read_table(path, columns=["input_ids", "label_id"])
        for ids, label in zip(table.column("input_ids").to_pylist(), table.column("label_id").to_pylist(), strict=True):
            if not ids:
                raise ValueError(f"{path}: a row has no input_ids")
            examples.append({"input_ids": truncate(list(ids), max_length, eos_id), "labels": int(label)})
    return examples


def make_collator(tokenizer: Any, pad_to_max_length: bool = False, max_length: int | None = None, on_gpu: bool = False):
    """Pads each batch to its own longest sequence, or to max_length (the course's fixed padding).

    On GPU, lengths are rounded up to a multiple of 8 so fp16/bf16 matmuls hit the tensor cores.
    """
    from transformers import DataCollatorWithPadding

    if pad_to_max_length:
        if max_length is None:
            raise ValueError("fixed padding needs max_length")
        return DataCollatorWithPadding(tokenizer, padding="max_length", max_length=max_length)
    return DataCollatorWithPadding(tokenizer, padding="longest", pad_to_multiple_of=8 if on_gpu else None)
