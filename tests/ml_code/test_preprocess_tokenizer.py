"""Loading the tokenizer with ``tokenizers`` alone gives exactly the transformers tokenizer's ids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from ml_code.preprocessing import tokenization
from ml_code.preprocessing.errors import InputError
from ml_code.preprocessing.tokenization import encode_batches, load_tokenizer

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "Love this dress!",
    "",
    " leading and trailing spaces ",
    "Runs small, order a size up. " * 40,  # far beyond any max length: truncated
    "Émigré fiancé: naïve café, 😀 ✨ — “quotes” and ‘apostrophes’",
    "<s> looks like a special token </s> <mask> <pad>",
    "tab\tnew line\ncarriage\r\nreturn",
]


@pytest.mark.parametrize("max_length", [5, 32, 128, 512])
def test_the_tokenizers_path_gives_the_transformers_ids_truncated_with_special_tokens(tiny_roberta, max_length):
    from transformers import AutoTokenizer

    reference = AutoTokenizer.from_pretrained(str(tiny_roberta))
    fast = load_tokenizer(str(tiny_roberta), max_length)
    assert "transformers" not in type(fast).__module__
    expected = reference(TEXTS, truncation=True, max_length=max_length)["input_ids"]
    batch = pa.RecordBatch.from_pydict({"review_body": TEXTS})
    [(_, encoded)] = list(encode_batches(fast, [batch], "review_body"))
    assert encoded.input_ids.to_pylist() == expected
    assert all(ids[0] == reference.bos_token_id and ids[-1] == reference.eos_token_id for ids in expected)
    assert encoded.lengths.tolist() == [len(ids) for ids in expected]
    full = [len(ids) for ids in reference(TEXTS)["input_ids"]]
    assert encoded.truncated.tolist() == [n > max_length for n in full]


def test_loading_the_saved_folder_does_not_import_transformers(tiny_roberta):
    code = (
        "import sys; from ml_code.preprocessing.tokenization import load_tokenizer;"
        f"load_tokenizer({str(tiny_roberta)!r}, 128); print('transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_folder_without_tokenizer_json_falls_back_to_transformers(tiny_roberta, tmp_path, monkeypatch):
    for name in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        (tmp_path / name).write_bytes((tiny_roberta / name).read_bytes())
    used = []
    original = tokenization._from_transformers
    monkeypatch.setattr(tokenization, "_from_transformers", lambda name: used.append(name) or original(name))
    tokenizer = load_tokenizer(str(tmp_path), 16)
    assert used == [str(tmp_path)]
    reference = load_tokenizer(str(tiny_roberta), 16)
    assert [e.ids for e in tokenizer.encode_batch(TEXTS)] == [e.ids for e in reference.encode_batch(TEXTS)]


def test_a_config_the_wrapper_would_apply_differently_falls_back_to_transformers(tiny_roberta, tmp_path, monkeypatch):
    for name in ("tokenizer.json", "vocab.json", "merges.txt", "special_tokens_map.json"):
        (tmp_path / name).write_bytes((tiny_roberta / name).read_bytes())
    config = json.loads((tiny_roberta / "tokenizer_config.json").read_text())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({**config, "add_prefix_space": True}))
    used = []
    monkeypatch.setattr(tokenization, "_from_transformers", lambda name: used.append(name) or (None, 0))
    with pytest.raises(InputError, match="model_max_length 0"):  # the stub's answer: only the call matters
        load_tokenizer(str(tmp_path), 16)
    assert used == [str(tmp_path)]


# None early, some, most, more than balancing keeps, and past the memory cap.
SETTINGS = [{"margin": 0.0}, {"margin": 0.5}, {}, {"margin": 3.0}, {"max_bytes": 1}]


@pytest.mark.parametrize("settings", SETTINGS)
def test_encoding_early_while_balancing_counts_changes_no_output(tmp_path, tiny_roberta, monkeypatch, settings):
    from tests.conftest import SAMPLE_DATA
    from tests.ml_code.preprocess_helpers import read_all, run_job

    (tmp_path / "in").mkdir()
    for i in range(2):
        (tmp_path / "in" / f"r{i}.csv.gz").write_bytes(SAMPLE_DATA.read_bytes())
    baseline = run_job(tmp_path / "in", tmp_path / "base", tiny_roberta, "--chunk-size", "300")
    original = tokenization.Speculator.__init__
    monkeypatch.setattr(
        tokenization.Speculator,
        "__init__",
        lambda self, tokenizer, column, **kw: original(self, tokenizer, column, **{**kw, **settings}),
    )
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--chunk-size", "300")
    assert read_all(tmp_path / "out") == read_all(tmp_path / "base")
    assert report["tokens"] == baseline["tokens"] and report["rows"] == baseline["rows"]
