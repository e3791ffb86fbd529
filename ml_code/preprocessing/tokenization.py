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
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

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


def subset(encoded: Encoded, rows: np.ndarray) -> Encoded:
    """The encodings at positions ``rows``, in that order."""
    return Encoded(encoded.input_ids.take(pa.array(rows)), encoded.lengths[rows], encoded.truncated[rows])


def _merged(done: np.ndarray, early: Encoded, fresh: Encoded) -> Encoded:
    """Encodings in row order from ``early`` (rows where ``done``) and ``fresh`` (the others)."""
    order = np.empty(len(done), dtype=np.int64)
    order[done] = np.arange(int(done.sum()))
    order[~done] = len(early.lengths) + np.arange(len(done) - int(done.sum()))
    both = Encoded(
        pa.concat_arrays([early.input_ids, fresh.input_ids]),
        np.concatenate([early.lengths, fresh.lengths]),
        np.concatenate([early.truncated, fresh.truncated]),
    )
    return subset(both, order)


# A batch to encode, optionally with some of its rows already encoded: (rows done, their encodings).
Item: TypeAlias = pa.RecordBatch | tuple[pa.RecordBatch, tuple[np.ndarray, Encoded] | None]


def encode_batches(
    tokenizer: Tokenizer, batches: Iterable[Item], column: str
) -> Generator[tuple[pa.RecordBatch, Encoded], None, None]:
    """Each batch with its encoded ``column``. The next batch is encoded while the caller
    works on this one (and while ``batches`` produces the next): the Rust encoder releases
    the GIL, so cleaning, Arrow conversion and Parquet writing overlap with it. Rows a
    batch comes with encodings for (``Speculator``) are not encoded again."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode") as pool:
        pending: tuple[pa.RecordBatch, tuple[np.ndarray, Encoded] | None, Future] | None = None
        for item in batches:
            batch, early = item if isinstance(item, tuple) else (item, None)
            texts = batch.column(column)
            if early is not None:
                texts = texts.filter(pa.array(~early[0]))
            # encode_batch_fast skips character offsets, which nothing here needs.
            future = pool.submit(tokenizer.encode_batch_fast, texts.to_pylist())
            if pending is not None:
                yield pending[0], _finish(pending[1], pending[2])
            pending = (batch, early, future)
        if pending is not None:
            yield pending[0], _finish(pending[1], pending[2])


def _finish(early: tuple[np.ndarray, Encoded] | None, future: Future) -> Encoded:
    fresh = _encoded(future.result())
    return fresh if early is None else _merged(early[0], early[1], fresh)


class Speculator:
    """Encodes records while they are still being cleaned, if balancing will likely keep them.

    Balancing can only decide once every label is counted, and cleaning is Python on one
    core: the Rust encoder would otherwise wait for it, and the other cores idle. Each
    spilled batch's records whose balance key is below ``margin`` times the running
    estimate of their label's threshold (the smallest label count so far over theirs) are
    encoded in the background; balancing then reuses those encodings for the records it
    keeps and encodes only the rest. A wrong estimate (labels sorted across the files)
    costs time, never correctness. Encodings held are capped at ``max_bytes``; beyond it,
    no more is encoded early.
    """

    def __init__(self, tokenizer: Tokenizer, column: str, max_bytes: int = 256 << 20, margin: float = 0.97) -> None:
        self._tokenizer, self._column, self._max_bytes, self._margin = tokenizer, column, max_bytes, margin
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speculate")
        self._batches: list[tuple[np.ndarray, Future | Encoded] | None] = []
        self._held = 0
        self.encoded = self.used = 0  # records encoded early, and of those, kept

    def observe(self, batch: pa.RecordBatch, label_counts: dict[int, int], n_labels: int) -> None:
        """Called with every spilled batch, in order; ``label_counts`` include it."""
        self._collect()
        counts = np.array([label_counts.get(i, 0) for i in range(n_labels)], dtype=np.float64)
        if counts.min() == 0 or self._held >= self._max_bytes:
            self._batches.append(None)
            return
        fraction = counts.min() / counts * self._margin  # of the key range each label keeps
        keys = batch.column("balance_key").to_numpy().astype(np.float64) / 2.0**64
        chosen = keys < fraction[batch.column("label_id").to_numpy()]
        if not chosen.any():
            self._batches.append(None)
            return
        texts = batch.column(self._column).filter(pa.array(chosen)).to_pylist()
        self._batches.append((chosen, self._pool.submit(self._tokenizer.encode_batch_fast, texts)))
        self.encoded += len(texts)

    def _collect(self) -> None:
        for i, entry in enumerate(self._batches):
            if entry is not None and isinstance(entry[1], Future) and entry[1].done():
                encoded = _encoded(entry[1].result())
                self._batches[i] = (entry[0], encoded)
                self._held += encoded.input_ids.nbytes

    def take(self, index: int, kept: np.ndarray) -> tuple[np.ndarray, Encoded] | None:
        """For spilled batch ``index`` of which balancing keeps ``kept``: (which kept rows are
        encoded already, their encodings), or None; the batch's encodings are then released."""
        entry = self._batches[index] if index < len(self._batches) else None
        if entry is None:
            return None
        self._batches[index] = None
        chosen, encoded = entry
        if isinstance(encoded, Future):
            encoded = _encoded(encoded.result())
        else:
            self._held -= encoded.input_ids.nbytes
        done = chosen[kept]
        self.used += int(done.sum())
        return done, subset(encoded, np.flatnonzero(kept[chosen]))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
