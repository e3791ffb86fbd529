"""Model Monitor record preprocessor: a captured request/response -> one feature row per review.

SageMaker's Model Monitor analyzer container runs this file on its own, as the data-quality
job's record_preprocessor_script: standard library only, no ml_code import. It calls
``preprocess_handler(inference_record, logger)`` for each line of the endpoint's data capture
files and reads the return value as JSON: a flat dict is one row, a list of flat dicts that
many rows, an empty list none (AWS's custom-sampling example skips records that way).

Captured record (SageMaker's capture format; ``inference_record`` is the analyzer's
CapturedData object, or the same as a plain dict): captureData.endpointInput/endpointOutput,
each with observedContentType, mode, data and encoding. With encoding JSON or CSV, data is the
body as text; with BASE64 (content types the endpoint's capture header does not list as text),
the body base64-encoded.

Bodies (ml_code/inference.py's contract):
  request   application/json {"inputs": "text"} or {"inputs": ["text", ...]}
            application/jsonlines  one {"inputs": "text"} or JSON string per line
            text/csv               one text per row, optional "inputs" header row
  response  application/json [answer, ...] or application/jsonlines, one answer per text, in
            request order: {"label", "score", "probabilities", "num_tokens", "truncated", ...}

FEATURES names the columns once: ml_code/baseline.py writes the training baseline with
``features()``, infra's alarms watch ``feature_baseline_drift_<feature>``. A record that
cannot be read is logged and skipped: an exception here would fail the whole monitoring job.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import logging

# ml_code.common.labels' class names in label-id order (tests/ml_code keeps them equal).
LABELS = ("negative", "neutral", "positive")
FEATURES = (
    "review_length",  # characters of the text as sent
    "token_count",  # tokens before truncation, special tokens included (the handler counts them)
    "truncated",  # 1 when the model saw only its first max-length tokens
    "predicted_label",  # categorical: its distribution is the predicted label mix
    "confidence",  # probability of the predicted label
    "prob_negative",
    "prob_neutral",
    "prob_positive",
)
JSON = "application/json"
JSONLINES = ("application/jsonlines", "application/x-jsonlines")
CSV = "text/csv"
LOG = logging.getLogger("record_preprocessor")


class RecordError(ValueError):
    """This captured record cannot become feature rows; the message says why."""


class UnknownContentType(RecordError):
    """The captured request has a content type the endpoint does not serve."""


def features(text: str, answer: dict) -> dict:
    """The feature row of one text and the handler's answer for it, in FEATURES order."""
    try:
        probabilities = answer["probabilities"]
        row = {
            "review_length": len(text),
            "token_count": _count(answer["num_tokens"]),
            "truncated": int(_flag(answer["truncated"])),
            "predicted_label": _label(answer["label"]),
            "confidence": float(answer["score"]),
            **{f"prob_{label}": float(probabilities[label]) for label in LABELS},
        }
    except (KeyError, TypeError, ValueError) as error:
        raise RecordError(f"answer {_short(answer)} is not a full prediction: {error!r}") from None
    return row


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"num_tokens {value!r} is not a token count")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"truncated {value!r} is not true/false")
    return value


def _label(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"label {value!r} is not a string")
    return value


def _short(value, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def media_type(header) -> str:
    """'application/json; charset=utf-8' -> 'application/json'."""
    return str(header or "").split(";")[0].strip().lower()


def _part(obj, name: str):
    """A field of the analyzer's objects (attributes) or of a plain capture dict (keys)."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def body_text(event, what: str) -> str:
    """The body of a captured endpointInput/endpointOutput as text, base64 undone."""
    if event is None:
        raise RecordError(f"no {what} in the captured record")
    data, encoding = _part(event, "data"), str(_part(event, "encoding") or "").upper()
    if isinstance(data, (dict, list)):
        return json.dumps(data)  # some producers store a JSON body already parsed
    if not isinstance(data, str):
        raise RecordError(f"{what} has no data")
    if encoding == "BASE64":
        try:
            return base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise RecordError(f"{what} is not base64 of UTF-8 text: {error}") from None
    return data


def _json(text: str, what: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(f"{what} is not valid JSON: {error.msg} (line {error.lineno})") from None


def _lines(body: str) -> list[str]:
    # Split on "\n" only: str.splitlines would also cut at U+2028, which JSON strings may hold.
    return [line for line in body.split("\n") if line.strip()]


def request_texts(body: str, content_type) -> list[str]:
    """The texts of a request, as ml_code/inference.py's input_fn reads them."""
    kind = media_type(content_type)
    if kind == JSON:
        document = _json(body, "request")
        if not isinstance(document, dict) or "inputs" not in document:
            raise RecordError('JSON request without an "inputs" key')
        inputs = document["inputs"]
        texts = inputs if isinstance(inputs, list) else [inputs]
    elif kind in JSONLINES:
        texts = []
        for number, line in enumerate(_lines(body), start=1):
            record = _json(line, f"request line {number}")
            texts.append(record.get("inputs") if isinstance(record, dict) else record)
    elif kind == CSV:
        try:
            rows = [row for row in csv.reader(io.StringIO(body, newline="")) if row]
        except csv.Error as error:
            raise RecordError(f"CSV request: {error}") from None
        if rows and [cell.strip().lower() for cell in rows[0]] == ["inputs"]:
            rows = rows[1:]
        if any(len(row) != 1 for row in rows):
            raise RecordError("CSV request with more than one column")
        texts = [row[0] for row in rows]
    else:
        raise UnknownContentType(f"request content type {content_type!r} is not one the endpoint serves")
    if not texts or not all(isinstance(text, str) for text in texts):
        raise RecordError(f"request texts are not all strings: {_short(texts)}")
    return texts


def response_answers(body: str, content_type) -> list:
    """The handler's answers, one per text."""
    if media_type(content_type) in JSONLINES:
        return [_json(line, f"response line {n}") for n, line in enumerate(_lines(body), start=1)]
    document = _json(body, "response")
    if not isinstance(document, list):
        raise RecordError(f"JSON response is not a list of answers: {_short(document)}")
    return document


def _texts_and_rows(inference_record) -> tuple[list[str], list[dict]]:
    capture = _part(inference_record, "captureData")
    if capture is not None:  # a plain dict in the capture format
        request, response = _part(capture, "endpointInput"), _part(capture, "endpointOutput")
    else:
        request, response = _part(inference_record, "endpoint_input"), _part(inference_record, "endpoint_output")
    texts = request_texts(body_text(request, "endpointInput"), _part(request, "observedContentType"))
    answers = response_answers(body_text(response, "endpointOutput"), _part(response, "observedContentType"))
    if len(answers) != len(texts):
        raise RecordError(f"{len(texts)} texts in the request but {len(answers)} answers in the response")
    return texts, [features(text, answer) for text, answer in zip(texts, answers, strict=False)]


def record_features(inference_record) -> list[dict]:
    """Every feature row of one captured record; RecordError if it cannot be read."""
    return _texts_and_rows(inference_record)[1]


def record_texts(inference_record) -> dict:
    """One captured record for the monitoring job (ml_code/monitor.py), which needs the texts too:
    {"event_id", "inference_id", "inference_time", "texts": [text, ...], "rows": [FEATURES row, ...]}
    (texts and rows in request order; ids and time None when the capture lacks them).
    RecordError if the record cannot be read."""
    texts, rows = _texts_and_rows(inference_record)
    return {**_metadata(inference_record), "texts": texts, "rows": rows}


def _metadata(inference_record) -> dict:
    metadata = _part(inference_record, "eventMetadata") or _part(inference_record, "event_metadata")

    def field(*names):
        values = [_part(metadata, name) for name in names] if metadata is not None else []
        return next((str(value) for value in values if value is not None), None)

    return {
        "event_id": field("eventId", "event_id"),
        "inference_id": field("inferenceId", "inference_id"),
        "inference_time": field("inferenceTime", "event_time"),
    }


def _event_id(inference_record) -> str:
    return str(_metadata(inference_record)["event_id"])


def preprocess_handler(inference_record, logger=None):
    """Model Monitor's entry point: one captured record -> its rows (dict for one, list for several)."""
    log = logger or LOG
    try:
        rows = record_features(inference_record)
    except RecordError as error:
        log.warning("skipped captured record %s: %s", _event_id(inference_record), error)
        return []
    except Exception as error:
        log.error("skipped captured record %s: unexpected %r", _event_id(inference_record), error)
        return []
    # A single row as a dict: the documented form of one record, whatever the container version.
    return rows[0] if len(rows) == 1 else rows
