"""Review sentiment handler for SageMaker's Hugging Face inference toolkit.

Ships as ``code/inference.py`` in model.tar.gz; the toolkit calls model_fn once per worker,
then input_fn -> predict_fn -> output_fn per request.

Requests (Content-Type):
  application/json       {"inputs": "text"} or {"inputs": ["text", ...]}
  application/jsonlines  one {"inputs": "text"} object (or a bare JSON string) per line
  text/csv               one text per row, a single column; an optional "inputs" header row
Response (Accept: application/json, the default, or application/jsonlines): one object per
text, in request order:
  {"label": "positive", "sentiment": 1, "score": 0.93,
   "probabilities": {"negative": 0.02, "neutral": 0.05, "positive": 0.93},
   "num_tokens": 57, "truncated": false}
num_tokens counts the text's tokens (special tokens included) before truncation; truncated
says the model saw only its first max-length tokens (num_tokens > the tokenizer's
model_max_length, which training sets to its max_seq_length). Both are in the answer for Model
Monitor: its analyzer container has no tokenizer (ml_code/monitoring/record_preprocessor.py).
Limits (environment variables, positive integers):
  MAX_TEXTS_PER_REQUEST (default 128), MAX_CHARS_PER_TEXT (default 5000),
  INFERENCE_BATCH_SIZE (default 32: texts per forward pass)
Bad input raises BadRequest, a ValueError with a message for the caller; the toolkit answers
it with HTTP 400 and the worker keeps serving.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The toolkit imports this file as the top-level module `inference` with code/ on sys.path, and
# code/ml_code/common ships beside it (ml_code/training/packaging.py): no path shim needed.
from ml_code.common.labels import ID2LABEL, SENTIMENTS

LOG = logging.getLogger(__name__)

JSON = "application/json"
JSONLINES = ("application/jsonlines", "application/x-jsonlines")
CSV = "text/csv"
MAX_TEXTS_ENV, MAX_CHARS_ENV, BATCH_SIZE_ENV = "MAX_TEXTS_PER_REQUEST", "MAX_CHARS_PER_TEXT", "INFERENCE_BATCH_SIZE"
# 128 texts of up to 5,000 characters stay far below SageMaker's 6 MB real-time payload limit;
# reviews in the data set are cut at ~500 characters.
DEFAULT_LIMITS = {MAX_TEXTS_ENV: 128, MAX_CHARS_ENV: 5000, BATCH_SIZE_ENV: 32}
VALUE_BY_LABEL = {s.name: s.value for s in SENTIMENTS}
JSON_TYPE_NAMES = {bool: "boolean", int: "number", float: "number", type(None): "null", list: "array", dict: "object"}


class BadRequest(ValueError):
    """The request cannot be served as sent; the message tells the caller what to fix."""


@dataclass(frozen=True)
class Limits:
    max_texts: int
    max_chars: int
    batch_size: int


@dataclass(frozen=True)
class SentimentModel:
    tokenizer: Any
    model: Any
    device: Any


def limits_from_env(environ: Mapping[str, str] = os.environ) -> Limits:
    values = {}
    for name, default in DEFAULT_LIMITS.items():
        raw = environ.get(name, str(default))
        if not raw.strip().isdigit() or int(raw) < 1:
            raise ValueError(f"{name} must be a positive integer, got {raw!r}")
        values[name] = int(raw)
    return Limits(values[MAX_TEXTS_ENV], values[MAX_CHARS_ENV], values[BATCH_SIZE_ENV])


def model_fn(model_dir: str) -> SentimentModel:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    limits = limits_from_env()  # a bad limit fails the endpoint at start, not each request
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # Half precision halves GPU memory and latency; softmax runs in float32 below.
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, torch_dtype=dtype).to(device).eval()
    if {int(k): v for k, v in model.config.id2label.items()} != ID2LABEL:
        raise ValueError(f"model labels {model.config.id2label} differ from ml_code.common.labels {ID2LABEL}")
    LOG.info("model loaded from %s on %s (%s); limits %s", model_dir, device, dtype, limits)
    return SentimentModel(tokenizer, model, device)


def media_type(header: str | None) -> str:
    """'application/json; charset=utf-8' -> 'application/json'."""
    return (header or "").split(";")[0].strip().lower()


def _text_body(input_data: str | bytes | bytearray) -> str:
    # The toolkit decodes JSON and CSV bodies itself but hands other types over as bytes.
    if isinstance(input_data, (bytes, bytearray)):
        try:
            input_data = bytes(input_data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadRequest(f"request body is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not input_data.strip():
        raise BadRequest("request body is empty")
    return input_data


def _parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{where} is not valid JSON: {error.msg} (line {error.lineno} column {error.colno})") from None


def _texts_from_json(body: str) -> list:
    document = _parse_json(body, "request body")
    if not isinstance(document, dict) or "inputs" not in document:
        raise BadRequest(
            'JSON body must be an object with an "inputs" key: {"inputs": "text"} or {"inputs": ["text", ...]}'
        )
    inputs = document["inputs"]
    return inputs if isinstance(inputs, list) else [inputs]


def _texts_from_jsonlines(body: str) -> list:
    texts = []
    # Split on newlines only: str.splitlines would also cut at U+2028, which JSON strings may hold.
    for number, line in enumerate(body.split("\n"), start=1):
        if not line.strip():
            continue
        record = _parse_json(line, f"line {number}")
        if isinstance(record, dict) and "inputs" in record and not isinstance(record["inputs"], list):
            record = record["inputs"]
        elif not isinstance(record, str):
            raise BadRequest(f'line {number} must be {{"inputs": "text"}} or a JSON string (one text per line)')
        texts.append(record)
    return texts


def _texts_from_csv(body: str) -> list:
    try:
        rows = [row for row in csv.reader(io.StringIO(body, newline="")) if row]
    except csv.Error as error:
        raise BadRequest(f"request body is not valid CSV: {error}") from None
    if rows and [cell.strip().lower() for cell in rows[0]] == ["inputs"]:
        rows = rows[1:]
    for number, row in enumerate(rows, start=1):
        if len(row) != 1:
            raise BadRequest(
                f"CSV row {number} has {len(row)} columns: send one text per row, quoted if it holds commas"
            )
    return [row[0] for row in rows]


PARSERS = {JSON: _texts_from_json, CSV: _texts_from_csv, **{name: _texts_from_jsonlines for name in JSONLINES}}


def validate_texts(texts: list, limits: Limits) -> list[str]:
    """The texts of one request, or BadRequest naming the first text that breaks a rule."""
    if not texts:
        raise BadRequest("no texts in the request")
    if len(texts) > limits.max_texts:
        raise BadRequest(f"{len(texts)} texts in one request; the limit is {limits.max_texts} ({MAX_TEXTS_ENV})")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise BadRequest(f"text {index} is a JSON {JSON_TYPE_NAMES.get(type(text), 'value')}, not a string")
        if not text.strip():
            raise BadRequest(f"text {index} is empty")
        if len(text) > limits.max_chars:
            raise BadRequest(
                f"text {index} has {len(text)} characters; the limit is {limits.max_chars} ({MAX_CHARS_ENV})"
            )
    return texts


def input_fn(input_data: str | bytes, content_type: str) -> list[str]:
    parser = PARSERS.get(media_type(content_type))
    if parser is None:
        raise BadRequest(f"unsupported content type {content_type!r}; use {JSON}, {JSONLINES[0]} or {CSV}")
    return validate_texts(parser(_text_body(input_data)), limits_from_env())


def prediction(probabilities: list[float], num_tokens: int, max_length: int) -> dict:
    """One text's answer from its class probabilities (index order of ID2LABEL) and token count."""
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    label = ID2LABEL[best]
    return {
        "label": label,
        "sentiment": VALUE_BY_LABEL[label],
        "score": round(probabilities[best], 6),
        "probabilities": {ID2LABEL[i]: round(p, 6) for i, p in enumerate(probabilities)},
        "num_tokens": num_tokens,
        "truncated": num_tokens > max_length,
    }


def token_counts(texts: list[str], tokenizer) -> list[int]:
    """Tokens per text before truncation. A second, cheap tokenizer pass (no tensors, no padding):
    the model's pass truncates, so its lengths cannot tell a text of max_length from a longer one."""
    # verbose=False: no "sequence longer than the maximum" warning; the model pass truncates.
    encoded = tokenizer(texts, truncation=False, padding=False, verbose=False)
    return [len(ids) for ids in encoded["input_ids"]]


def predict_fn(texts: list[str], model: SentimentModel) -> list[dict]:
    """Batches of similar length, each padded only to its own longest text; answers in request order."""
    import torch

    batch_size = limits_from_env().batch_size
    max_length = model.tokenizer.model_max_length
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results: list[dict] = [{}] * len(texts)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            batch_texts = [texts[i] for i in indices]
            batch = model.tokenizer(batch_texts, padding=True, truncation=True, return_tensors="pt").to(model.device)
            probabilities = model.model(**batch).logits.float().softmax(dim=-1).cpu().tolist()
            counts = token_counts(batch_texts, model.tokenizer)
            for index, row, count in zip(indices, probabilities, counts, strict=True):
                results[index] = prediction(row, count, max_length)
    return results


def output_fn(predictions: list[dict], accept: str) -> str:
    kind = media_type(accept)
    if kind in ("", "*/*", JSON):
        return json.dumps(predictions)
    if kind in JSONLINES:
        return "".join(json.dumps(p) + "\n" for p in predictions)
    raise BadRequest(f"unsupported Accept type {accept!r}; use {JSON} or {JSONLINES[0]}")
