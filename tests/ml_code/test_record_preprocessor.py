"""The Model Monitor record preprocessor on captured traffic: real reviews from the course's data
set, real answers of our handler (tiny model), written in SageMaker's capture format with JSON,
CSV and BASE64 encodings, replayed the way the analyzer container runs the script."""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
import sys

import pytest

from ml_code.common.labels import ID2LABEL
from ml_code.inference import input_fn, model_fn, predict_fn
from ml_code.monitoring import record_preprocessor
from ml_code.monitoring.record_preprocessor import FEATURES, LABELS, preprocess_handler, request_texts
from tests.ml_code.capture_records import SCRIPT, CapturedData, analyze, capture_line, handler_response
from tests.ml_code.inference_cases import GOOD
from tests.ml_code.split_fixtures import reviews
from tests.ml_code.training_fixtures import share_cores, trained_run  # noqa: F401 (share_cores: autouse)

JSON, JSONLINES, CSV = "application/json", "application/jsonlines", "text/csv"


@pytest.fixture(scope="module")
def model(tmp_path_factory, tiny_roberta):
    return model_fn(str(trained_run(tmp_path_factory, tiny_roberta) / "model"))


@pytest.fixture(scope="module")
def texts(real_data) -> list[str]:
    """Real reviews with the data set's quirks: the longest (cut near 500 characters), the shortest,
    CRLF line breaks, double quotes, commas, double-encoded accents, plus the first few rows."""
    every = reviews(real_data)["text"].tolist()
    picked = [max(every, key=len), min(every, key=len)]
    for quirk in ("\r\n", '"', "ã"):
        picked.append(next(t for t in every if quirk in t and t not in picked))
    return picked + [t for t in every[:8] if t not in picked][:5]


def _csv_body(texts: list[str]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([t] for t in texts)
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def capture(texts, model) -> tuple[list[str], list[list[str]]]:
    """(capture file lines, the texts of each line's request): one file as the endpoint wrote it."""
    requests = [
        ("json-one", json.dumps({"inputs": texts[0]}).encode(), JSON, JSON, "JSON", texts[:1]),
        ("json-list", json.dumps({"inputs": texts}).encode(), JSON, JSON, "JSON", texts),
        ("json-base64", json.dumps({"inputs": texts[2:6]}).encode(), JSON, JSON, "BASE64", texts[2:6]),
        # Content types outside the capture config's JSON/CSV lists are captured base64-encoded.
        (
            "jsonlines",
            "".join(json.dumps({"inputs": t}) + "\n" for t in texts[1:5]).encode(),
            JSONLINES,
            JSONLINES,
            "BASE64",
            texts[1:5],
        ),
        ("csv", _csv_body(texts), CSV, JSON, "CSV", texts),
    ]
    lines, expected = [], []
    for event_id, body, content_type, accept, encoding, sent in requests:
        response = handler_response(body, content_type, accept, model)
        response_encoding = "JSON" if encoding == "CSV" else encoding
        lines.append(capture_line(event_id, body, content_type, response, accept, encoding, response_encoding))
        expected.append(sent)
    return lines, expected


def test_every_captured_text_becomes_one_row_of_the_features_serving_computed(capture, model):
    lines, expected = capture
    rows_per_line = analyze(lines)
    max_length = model.tokenizer.model_max_length
    for sent, rows in zip(expected, rows_per_line, strict=True):
        assert len(rows) == len(sent)
        answers = predict_fn(sent, model)
        for text, row, answer in zip(sent, rows, answers, strict=True):
            assert list(row) == list(FEATURES)
            assert row["review_length"] == len(text)
            assert row["token_count"] == len(model.tokenizer(text)["input_ids"])
            assert row["truncated"] == int(row["token_count"] > max_length)
            assert row["predicted_label"] == answer["label"] and row["confidence"] == answer["score"]
            assert [row[f"prob_{label}"] for label in LABELS] == list(answer["probabilities"].values())
    truncations = {row["truncated"] for rows in rows_per_line for row in rows}
    assert truncations == {0, 1}, "the sample should hold both whole and truncated reviews"


def test_base64_and_text_encodings_of_the_same_request_give_the_same_rows(capture, texts, model):
    body = json.dumps({"inputs": texts}).encode()
    response = handler_response(body, JSON, JSON, model)
    as_text = capture_line("a", body, JSON, response, JSON, "JSON")
    as_base64 = capture_line("b", body, JSON, response, JSON, "BASE64")
    assert json.loads(as_base64)["captureData"]["endpointInput"]["data"] != body.decode()
    first, second = analyze([as_text, as_base64])
    assert first == second and len(first) == len(texts)


def test_a_malformed_record_is_logged_and_skipped_and_the_rest_still_counts(capture, caplog):
    lines, expected = capture
    good = json.loads(lines[1])
    truncated_body = json.loads(lines[1])
    truncated_body["captureData"]["endpointInput"]["data"] = good["captureData"]["endpointInput"]["data"][:40]
    bad_base64 = json.loads(lines[2])
    bad_base64["captureData"]["endpointOutput"]["data"] = "not base64 at all!"
    fewer_answers = json.loads(lines[1])
    answers = json.loads(good["captureData"]["endpointOutput"]["data"])
    fewer_answers["captureData"]["endpointOutput"]["data"] = json.dumps(answers[:-1])
    no_output = {k: v for k, v in json.loads(lines[0]).items()}
    no_output["captureData"] = {"endpointInput": no_output["captureData"]["endpointInput"]}
    broken = [truncated_body, bad_base64, fewer_answers, no_output]
    for index, record in enumerate(broken):
        record["eventMetadata"]["eventId"] = f"broken-{index}"
    mixed = [json.dumps(r) for r in broken[:2]] + [lines[1]] + [json.dumps(r) for r in broken[2:]]
    with caplog.at_level(logging.WARNING, logger="Preprocessing"):
        results = analyze(mixed)
    assert [len(rows) for rows in results] == [0, 0, len(expected[1]), 0, 0]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 4
    assert "broken-0" in messages[0] and "request is not valid JSON" in messages[0]
    assert "broken-1" in messages[1] and "not base64" in messages[1]
    assert "broken-2" in messages[2] and f"{len(expected[1])} texts in the request but" in messages[2]
    assert "broken-3" in messages[3] and "no endpointOutput" in messages[3]


def test_an_unexpected_error_inside_still_skips_the_record_instead_of_failing_the_job(capture, caplog):
    class Exploding:
        @property
        def endpoint_input(self):
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="record_preprocessor"):
        assert preprocess_handler(Exploding()) == []
    assert "unexpected RuntimeError('boom')" in caplog.text


def test_one_text_is_one_row_as_a_dict_and_plain_capture_dicts_work_too(capture):
    lines, expected = capture
    assert len(expected[0]) == 1
    single = preprocess_handler(CapturedData(json.loads(lines[0])))
    assert isinstance(single, dict) and list(single) == list(FEATURES)
    assert preprocess_handler(json.loads(lines[0])) == single  # the same record as a plain dict
    assert isinstance(preprocess_handler(json.loads(lines[1])), list)


@pytest.mark.parametrize("case", [c for c in GOOD if c.accept is None], ids=lambda c: c.id)
def test_request_texts_reads_every_request_as_the_handler_does(case):
    body = case.body.decode()
    handler_body = body if case.content_type.split(";")[0] in (JSON, CSV) else case.body
    assert request_texts(body, case.content_type) == input_fn(handler_body, case.content_type) == case.expected


def test_the_script_runs_alone_on_the_standard_library():
    # The analyzer image has no ml_code, numpy or transformers: only the standard library may be imported.
    tree = ast.parse(SCRIPT.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported
    assert record_preprocessor.__file__ == str(SCRIPT)


def test_feature_names_and_labels_match_the_rest_of_the_project():
    assert tuple(ID2LABEL.values()) == LABELS
    assert FEATURES[:5] == ("review_length", "token_count", "truncated", "predicted_label", "confidence")
    assert FEATURES[5:] == tuple(f"prob_{label}" for label in ID2LABEL.values())
    assert all(name.isidentifier() and name.islower() for name in FEATURES)  # CloudWatch metric name parts
