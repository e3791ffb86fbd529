"""RoBERTa token ids with the fast (Rust) tokenizer, in batches, truncated and unpadded.

Training pads each batch dynamically, so ids are stored unpadded. The ids equal what the
transformers call API returns with ``truncation=True, max_length=...``, without its
per-row Python work.

Loading: where the tokenizer is saved with a ``tokenizer.json`` (every fast tokenizer's
``save_pretrained`` writes one; roberta-base on the hub has one), the ``tokenizers``
library loads it alone: that is the object transformers would wrap, and importing
transformers (and torch with it) costs seconds for nothing. transformers is the fallback
for tokenizers saved without one (vocab and merges only) and for settings its Python
wrapper would change (see ``_wrapper_would_differ``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ml_code.preprocessing.errors import InputError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

LOG = logging.getLogger(__name__)
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "tokenizer_config.json"
# transformers' model_max_length when a tokenizer config does not set one: no limit.
_UNLIMITED = int(1e30)


@dataclass(frozen=True)
class Encoded:
    input_ids: pa.Array  # list<int32>, starting with <s> and ending with </s>
    lengths: np.ndarray  # tokens per text, after truncation
    truncated: np.ndarray  # bool: the text had more tokens than max_seq_length


def _hub_files(name: str) -> tuple[Path, dict[str, Any]] | None:
    """(tokenizer.json, tokenizer config) of a hub model id, from the hub or its local cache;
    None when the model has no tokenizer.json or the hub cannot be reached."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        tokenizer_file = Path(hf_hub_download(name, TOKENIZER_FILE))
    except Exception as exc:  # any failure: transformers tries, and explains
        LOG.info("tokenizer %r: no %s from the hub (%s); loading with transformers", name, TOKENIZER_FILE, exc)
        return None
    try:
        config = json.loads(Path(hf_hub_download(name, CONFIG_FILE)).read_text(encoding="utf-8"))
    except EntryNotFoundError:
        config = {}
    except Exception as exc:
        LOG.info("tokenizer %r: no %s from the hub (%s); loading with transformers", name, CONFIG_FILE, exc)
        return None
    return tokenizer_file, config


def _local_files(path: Path) -> tuple[Path, dict[str, Any]] | None:
    tokenizer_file = path / TOKENIZER_FILE if path.is_dir() else path
    if not tokenizer_file.is_file() or tokenizer_file.name != TOKENIZER_FILE:
        return None
    config_file = tokenizer_file.with_name(CONFIG_FILE)
    try:
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    except (OSError, ValueError) as exc:
        raise InputError(f"--tokenizer {str(path)!r}: unreadable {CONFIG_FILE} ({exc})") from exc
    return tokenizer_file, config


def _wrapper_would_differ(tokenizer: Tokenizer, definition: dict[str, Any], config: dict[str, Any]) -> str:
    """Why transformers' wrapper would change the tokenizer it loads from tokenizer.json ('' if
    it would not). RobertaTokenizerFast rebuilds the pre-tokenizer and post-processor when the
    config's add_prefix_space / trim_offsets disagree with them, and every wrapper adds the
    config's added tokens that the file lacks."""
    for part in ("pre_tokenizer", "post_processor"):
        settings = definition.get(part) or {}
        for key in ("add_prefix_space", "trim_offsets"):
            if key in config and key in settings and config[key] != settings[key]:
                return f"{CONFIG_FILE} sets {key}={config[key]} but the {part} has {settings[key]}"
    added = {i: t.content for i, t in tokenizer.get_added_tokens_decoder().items()}
    for token_id, token in (config.get("added_tokens_decoder") or {}).items():
        if added.get(int(token_id)) != token.get("content"):
            return f"added token {token_id} {token.get('content')!r} is not in {TOKENIZER_FILE}"
    return ""


def _from_file(name_or_path: str) -> tuple[Tokenizer, int] | None:
    """(tokenizer, model_max_length) loaded by ``tokenizers`` alone, or None if it cannot be."""
    from tokenizers import Tokenizer

    path = Path(name_or_path)
    files = _local_files(path) if path.exists() else _hub_files(name_or_path)
    if files is None:
        return None
    tokenizer_file, config = files
    try:
        text = tokenizer_file.read_text(encoding="utf-8")
        tokenizer = Tokenizer.from_str(text)
    except Exception as exc:  # tokenizers raises plain Exceptions on bad files
        raise InputError(f"--tokenizer {name_or_path!r}: cannot load {tokenizer_file} ({exc})") from exc
    why = _wrapper_would_differ(tokenizer, json.loads(text), config)
    if why:
        LOG.info("tokenizer %r: %s; loading with transformers", name_or_path, why)
        return None
    return tokenizer, int(config.get("model_max_length") or _UNLIMITED)


def _from_transformers(name_or_path: str) -> tuple[Tokenizer, int]:
    from transformers import AutoTokenizer  # heavy (torch): only when tokenizers alone cannot load it

    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as exc:
        raise InputError(f"--tokenizer {name_or_path!r}: cannot load it ({str(exc).splitlines()[0]})") from exc
    if not tokenizer.is_fast:
        raise InputError(f"--tokenizer {name_or_path!r}: no fast (Rust) implementation for batch encoding")
    return tokenizer.backend_tokenizer, tokenizer.model_max_length


def load_tokenizer(name_or_path: str, max_seq_length: int) -> Tokenizer:
    """Any Hugging Face tokenizer name or local path with a fast implementation, set to
    truncate to ``max_seq_length`` tokens (special tokens included) and not to pad."""
    loaded = _from_file(name_or_path)
    tokenizer, model_max_length = loaded if loaded is not None else _from_transformers(name_or_path)
    LOG.info("tokenizer %r loaded with %s", name_or_path, "tokenizers" if loaded else "transformers")
    if max_seq_length > model_max_length:
        raise InputError(
            f"--max-seq-length {max_seq_length} exceeds the tokenizer's model_max_length {model_max_length}"
        )
    tokenizer.enable_truncation(max_length=max_seq_length)
    tokenizer.no_padding()
    return tokenizer


def _encoded(encodings: list) -> Encoded:
    ids = [e.ids for e in encodings]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    offsets = np.zeros(len(ids) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.fromiter(chain.from_iterable(ids), dtype=np.int32, count=int(offsets[-1]))
    return Encoded(
        input_ids=pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat)),
        lengths=lengths,
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
