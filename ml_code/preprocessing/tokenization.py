"""RoBERTa token ids with the fast (Rust) tokenizer, in batches, truncated and unpadded.

Training pads each batch dynamically, so ids are stored unpadded. The tokenizer is the
backend of ``AutoTokenizer.from_pretrained``: the ids equal what the transformers call
API returns with ``truncation=True, max_length=...``, without its per-row Python work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ml_code.preprocessing.errors import InputError

if TYPE_CHECKING:
    from tokenizers import Tokenizer


@dataclass(frozen=True)
class Encoded:
    input_ids: pa.Array  # list<int32>, starting with <s> and ending with </s>
    lengths: np.ndarray  # tokens per text, after truncation
    truncated: np.ndarray  # bool: the text had more tokens than max_seq_length


def load_tokenizer(name_or_path: str, max_seq_length: int) -> Tokenizer:
    """Any Hugging Face tokenizer name or local path, with a fast implementation."""
    from transformers import AutoTokenizer  # heavy: imported when the job runs, not on import

    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as exc:
        raise InputError(f"--tokenizer {name_or_path!r}: cannot load it ({str(exc).splitlines()[0]})") from exc
    if not tokenizer.is_fast:
        raise InputError(f"--tokenizer {name_or_path!r}: no fast (Rust) implementation for batch encoding")
    if max_seq_length > tokenizer.model_max_length:
        raise InputError(
            f"--max-seq-length {max_seq_length} exceeds the tokenizer's model_max_length {tokenizer.model_max_length}"
        )
    backend = tokenizer.backend_tokenizer
    backend.enable_truncation(max_length=max_seq_length)
    backend.no_padding()
    return backend


def _encoded(encodings: list) -> Encoded:
    input_ids = pa.array([e.ids for e in encodings], type=pa.list_(pa.int32()))
    return Encoded(
        input_ids=input_ids,
        lengths=np.diff(input_ids.offsets.to_numpy()).astype(np.int64),
        truncated=np.fromiter((bool(e.overflowing) for e in encodings), dtype=bool, count=len(encodings)),
    )


def encode_batches(
    tokenizer: Tokenizer, batches: Iterable[pa.RecordBatch], column: str
) -> Iterator[tuple[pa.RecordBatch, Encoded]]:
    """Each batch with its encoded ``column``. The next batch is encoded while the caller
    works on this one (and while ``batches`` produces the next): the Rust encoder releases
    the GIL, so cleaning, Arrow conversion and Parquet writing overlap with it."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode") as pool:
        pending: tuple[pa.RecordBatch, Future] | None = None
        for batch in batches:
            # encode_batch_fast skips character offsets, which nothing here needs.
            future = pool.submit(tokenizer.encode_batch_fast, batch.column(column).to_pylist())
            if pending is not None:
                yield pending[0], _encoded(pending[1].result())
            pending = (batch, future)
        if pending is not None:
            yield pending[0], _encoded(pending[1].result())
