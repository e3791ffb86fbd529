"""The inference handler in-process: every content type, every bad input, limits, batching, output."""

from __future__ import annotations

import json
import shutil

import pytest

from ml_code import inference
from ml_code.common.labels import ID2LABEL, SENTIMENTS
from ml_code.inference import BadRequest, input_fn, limits_from_env, model_fn, output_fn, predict_fn
from tests.ml_code.inference_cases import BAD, GOOD, LIMITS, Case, ids
from tests.ml_code.training_fixtures import share_cores, trained_run  # noqa: F401 (share_cores: autouse)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_roberta):
    return trained_run(tmp_path_factory, tiny_roberta)


@pytest.fixture(autouse=True)
def limits(monkeypatch):
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def model(trained):
    return model_fn(str(trained / "model"))


def handle(case: Case, model) -> str:
    """What the toolkit's handler does per request: it decodes only exact JSON/CSV types to str."""
    body = case.body.decode() if case.content_type in ("application/json", "text/csv") else case.body
    return output_fn(predict_fn(input_fn(body, case.content_type), model), case.accept or "application/json")


def parse_response(case: Case, response: str) -> list[dict]:
    if case.accept == "application/jsonlines":
        return [json.loads(line) for line in response.splitlines()]
    return json.loads(response)


@pytest.mark.parametrize("case", GOOD, ids=ids(GOOD))
def test_every_content_type_yields_the_request_texts(case):
    body = case.body.decode() if case.content_type in ("application/json", "text/csv") else case.body
    assert input_fn(body, case.content_type) == case.expected


@pytest.mark.parametrize("case", GOOD, ids=ids(GOOD))
def test_every_good_request_answers_each_text_with_label_sentiment_score_probabilities_and_tokens(case, model):
    answers = parse_response(case, handle(case, model))
    assert len(answers) == len(case.expected)
    value_of = {s.name: s.value for s in SENTIMENTS}
    for text, answer in zip(case.expected, answers, strict=True):
        assert set(answer) == {"label", "sentiment", "score", "probabilities", "num_tokens", "truncated"}
        assert answer["num_tokens"] == len(model.tokenizer(text)["input_ids"]) and answer["truncated"] is False
        assert list(answer["probabilities"]) == list(ID2LABEL.values())
        assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert answer["label"] == max(answer["probabilities"], key=answer["probabilities"].get)
        assert answer["score"] == answer["probabilities"][answer["label"]]
        assert answer["sentiment"] == value_of[answer["label"]]


@pytest.mark.parametrize("case", BAD, ids=ids(BAD))
def test_every_bad_request_raises_bad_request_with_a_clear_message(case, model):
    with pytest.raises(BadRequest) as raised:
        handle(case, model)
    assert case.expected in str(raised.value)
    assert isinstance(raised.value, ValueError)  # what the toolkit turns into HTTP 400


def test_batched_dynamic_padding_gives_the_answers_of_one_text_at_a_time_in_request_order(model):
    # Lengths 1..60 words across batches of 3 (INFERENCE_BATCH_SIZE): padding must not change a logit.
    texts = ["nice " * 60, "bad", "the fabric is thin " * 5, "love it", "returned it, too small " * 3, "ok"]
    together = predict_fn(texts, model)
    one_by_one = [predict_fn([text], model)[0] for text in texts]
    for batched, alone in zip(together, one_by_one, strict=True):
        assert batched["probabilities"] == pytest.approx(alone["probabilities"], abs=1e-5)
    assert [a["label"] for a in together] == [a["label"] for a in one_by_one]


def test_texts_longer_than_the_training_length_are_truncated_not_rejected_and_say_so(model):
    long_text = "comfortable " * 250  # ~500 tokens, beyond the 128 the model was trained with
    max_length = model.tokenizer.model_max_length
    assert max_length == 128
    answer = predict_fn([long_text], model)[0]
    assert answer["label"] in ID2LABEL.values()
    # The count is of the whole text (the monitor watches input lengths), not of what the model saw.
    assert answer["num_tokens"] == len(model.tokenizer(long_text)["input_ids"]) > max_length
    assert answer["truncated"] is True


def test_truncated_flips_exactly_above_the_models_max_length(model):
    tokenizer = model.tokenizer
    # Grow a text word by word until it crosses max_length: at max_length it is whole, one more token is cut.
    words, counts = [], {}
    while True:
        words.append("soft")
        count = len(tokenizer(" ".join(words))["input_ids"])
        counts[count] = " ".join(words)
        if count > tokenizer.model_max_length:
            break
    answers = predict_fn(list(counts.values()), model)
    assert [(a["num_tokens"], a["truncated"]) for a in answers] == [
        (count, count > tokenizer.model_max_length) for count in counts
    ]
    assert tokenizer.model_max_length in counts and answers[-1]["truncated"]


def test_output_is_json_by_default_and_one_object_per_line_for_jsonlines():
    predictions = [{"label": "positive"}, {"label": "negative"}]
    assert json.loads(output_fn(predictions, "application/json")) == predictions
    assert output_fn(predictions, "application/jsonlines") == '{"label": "positive"}\n{"label": "negative"}\n'


def test_limits_come_from_the_environment_with_defaults():
    assert limits_from_env({}) == inference.Limits(max_texts=128, max_chars=5000, batch_size=32)
    assert limits_from_env(LIMITS) == inference.Limits(max_texts=8, max_chars=300, batch_size=3)


@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5", ""])
def test_a_bad_limit_fails_at_model_load_naming_the_variable(value, monkeypatch, trained):
    monkeypatch.setenv("MAX_CHARS_PER_TEXT", value)
    with pytest.raises(ValueError, match="MAX_CHARS_PER_TEXT must be a positive integer"):
        model_fn(str(trained / "model"))


def test_a_model_with_other_labels_is_refused_at_load(trained, tmp_path):
    model_dir = shutil.copytree(trained / "model", tmp_path / "model")
    config = json.loads((model_dir / "config.json").read_text())
    config["id2label"] = {"0": "positive", "1": "neutral", "2": "negative"}
    config["label2id"] = {"positive": 0, "neutral": 1, "negative": 2}
    (model_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="differ from ml_code.common.labels"):
        model_fn(str(model_dir))


def test_model_loads_in_float32_on_cpu(model):
    import torch

    assert model.device.type == "cpu"  # half precision is for GPUs only (CPU kernels are slower in fp16)
    assert next(model.model.parameters()).dtype == torch.float32
    assert not model.model.training
