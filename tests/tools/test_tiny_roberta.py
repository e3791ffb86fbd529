"""The offline tokenizer/model builder yields a real RoBERTa tokenizer and a 3-label classifier."""

from __future__ import annotations

import pytest

from ml_code.common.labels import ID2LABEL
from tools.tiny_roberta import parse_args


def test_tokenizer_loads_by_path_with_full_vocabulary_and_roberta_specials(tiny_roberta):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_roberta))
    assert type(tokenizer).__name__ == "RobertaTokenizerFast"
    assert len(tokenizer) == 2000
    ids = tokenizer("This dress fits perfectly")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == "This dress fits perfectly"
    assert tokenizer.pad_token == "<pad>" and tokenizer.mask_token == "<mask>"


def test_model_is_a_three_label_roberta_classifier_with_the_shared_labels(tiny_roberta):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_roberta))
    assert type(model).__name__ == "RobertaForSequenceClassification"
    assert model.config.id2label == ID2LABEL
    batch = AutoTokenizer.from_pretrained(str(tiny_roberta))(
        ["great", "awful fit, returned it"], padding=True, return_tensors="pt"
    )
    assert model(**batch).logits.shape == (2, 3)


def test_cli_rejects_missing_files_and_bad_shapes(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path)])
    assert "no such file" in capsys.readouterr().err
    existing = tmp_path / "x.csv"
    existing.write_text("text\nhello\n")
    with pytest.raises(SystemExit):
        parse_args(["--data", str(existing), "--out", str(tmp_path), "--hidden-size", "65", "--heads", "2"])
