"""Build a small RoBERTa tokenizer (and optionally model) from review text, offline.

roberta-base cannot be downloaded here. Tests, local runs and benchmarks use this instead:
a byte-level BPE trained on the reviews themselves, saved in Hugging Face format so every
script loads it exactly as it would load ``roberta-base`` (``from_pretrained(dir)``).

    python -m tools.tiny_roberta --data data/sample/womens_clothing_reviews_sample.csv.gz \
        --out build/tiny-roberta --with-model
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

LOG = logging.getLogger("tiny_roberta")
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
TEXT_COLUMNS = ("Review Text", "review_body", "review_text", "text")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def review_texts(paths: Iterable[Path]) -> Iterator[str]:
    """Non-empty texts from CSV/TSV files (plain or .gz), from the first known text column."""
    for path in paths:
        with _open_text(path) as handle:
            delimiter = "\t" if ".tsv" in path.name else ","
            reader = csv.DictReader(handle, delimiter=delimiter)
            column = next((c for c in TEXT_COLUMNS if c in (reader.fieldnames or [])), None)
            if column is None:
                raise ValueError(f"{path}: no text column (looked for {', '.join(TEXT_COLUMNS)})")
            for row in reader:
                text = (row.get(column) or "").strip()
                if text:
                    yield text


def build_tokenizer(texts: Iterable[str], out_dir: Path, vocab_size: int = 2000, max_length: int = 512):
    """Train a byte-level BPE on ``texts`` and save it as a RobertaTokenizerFast in ``out_dir``."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    out_dir.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS)
    bpe.save_model(str(out_dir))
    # Loading vocab/merges through from_pretrained (not the constructor) keeps the full
    # vocabulary on every transformers version; save_pretrained adds tokenizer.json.
    tokenizer = RobertaTokenizerFast.from_pretrained(str(out_dir), model_max_length=max_length)
    tokenizer.save_pretrained(str(out_dir))
    return tokenizer


def build_model(tokenizer, out_dir: Path, hidden_size: int = 64, layers: int = 2, heads: int = 2, seed: int = 0):
    """A randomly initialised RobertaForSequenceClassification sized for CPU tests."""
    import torch
    from transformers import RobertaConfig

    # From its module: type checkers resolve the top-level name to transformers' no-torch placeholder.
    from transformers.models.roberta.modeling_roberta import RobertaForSequenceClassification

    from ml_code.common.labels import ID2LABEL, LABEL2ID

    torch.manual_seed(seed)
    config = RobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden_size * 4,
        # RoBERTa offsets positions by padding_idx + 1.
        max_position_embeddings=tokenizer.model_max_length + 2,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        num_labels=len(ID2LABEL),
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
    )
    model = RobertaForSequenceClassification(config)
    model.save_pretrained(str(out_dir))
    return model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="CSV/TSV review files (plain or .gz)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (Hugging Face format)")
    parser.add_argument("--vocab-size", type=int, default=2000, help="BPE vocabulary size (default 2000)")
    parser.add_argument("--max-length", type=int, default=512, help="tokenizer model_max_length (default 512)")
    parser.add_argument("--with-model", action="store_true", help="also save a small untrained classifier")
    parser.add_argument("--hidden-size", type=int, default=64, help="model hidden size (default 64)")
    parser.add_argument("--layers", type=int, default=2, help="transformer layers (default 2)")
    parser.add_argument("--heads", type=int, default=2, help="attention heads (default 2)")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.data if not p.exists()]
    if missing:
        parser.error(f"no such file: {', '.join(missing)}")
    if args.hidden_size % args.heads:
        parser.error("--hidden-size must be a multiple of --heads")
    return args


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    tokenizer = build_tokenizer(review_texts(args.data), args.out, args.vocab_size, args.max_length)
    LOG.info("tokenizer: %d tokens -> %s", len(tokenizer), args.out)
    if args.with_model:
        model = build_model(tokenizer, args.out, args.hidden_size, args.layers, args.heads)
        LOG.info("model: %d parameters -> %s", sum(p.numel() for p in model.parameters()), args.out)


if __name__ == "__main__":
    main()
