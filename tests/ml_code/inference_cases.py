"""Requests for the inference handler, used in-process (tests/ml_code) and over HTTP (tests/e2e).

Both suites run with LIMITS in the environment, so the over-limit cases stay small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

JSON, JSONLINES, CSV = "application/json", "application/jsonlines", "text/csv"
MAX_TEXTS, MAX_CHARS = 8, 300
LIMITS = {"MAX_TEXTS_PER_REQUEST": str(MAX_TEXTS), "MAX_CHARS_PER_TEXT": str(MAX_CHARS), "INFERENCE_BATCH_SIZE": "3"}


@dataclass(frozen=True)
class Case:
    id: str
    body: bytes
    content_type: str
    expected: list[str] | str  # the texts a good request carries, or a fragment of a bad request's message
    accept: str | None = None


def _json(document) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()  # real UTF-8 bytes, not \u escapes


def _json_case(case_id: str, inputs: str | list[str], content_type: str = JSON, accept: str | None = None) -> Case:
    return Case(
        case_id, _json({"inputs": inputs}), content_type, inputs if isinstance(inputs, list) else [inputs], accept
    )


GOOD = [
    _json_case("json-one-text", "Love this dress, fits perfectly"),
    _json_case("json-list", ["great", "awful fabric", "it is ok"]),
    _json_case("json-charset-and-utf8", ["très jolie", "über"], content_type=JSON + "; charset=utf-8"),
    # U+2028 is a line separator to str.splitlines but legal inside a JSON string.
    Case(
        "jsonlines-objects",
        '{"inputs": "soft\u2028fabric"}\n{"inputs": "itchy"}\n'.encode(),
        JSONLINES,
        ["soft\u2028fabric", "itchy"],
    ),
    Case("jsonlines-strings-no-final-newline", b'"soft"\n\n"itchy"', "application/x-jsonlines", ["soft", "itchy"]),
    Case(
        "csv-quoted-commas-and-lines",
        b'"Great, fits well"\r\n"runs small,\nsize up"\nawful\n',
        CSV,
        ["Great, fits well", "runs small,\nsize up", "awful"],
    ),
    Case("csv-inputs-header", b"inputs\ngreat\nbad\n", CSV, ["great", "bad"]),
    _json_case("json-accept-jsonlines", ["a", "b"], accept=JSONLINES),
    _json_case("json-accept-any", "a", accept="*/*"),
]

BAD = [
    Case("malformed-json", b'{"inputs": "x"', JSON, "request body is not valid JSON"),
    Case("json-array-body", _json(["x"]), JSON, 'object with an "inputs" key'),
    Case("missing-inputs-key", _json({"text": "x"}), JSON, 'object with an "inputs" key'),
    Case("empty-body", b"", JSON, "request body is empty"),
    Case("empty-list", _json({"inputs": []}), JSON, "no texts in the request"),
    Case("blank-text", _json({"inputs": ["fine", "   "]}), JSON, "text 1 is empty"),
    Case("number-text", _json({"inputs": ["fine", 42]}), JSON, "text 1 is a JSON number, not a string"),
    Case("null-inputs", _json({"inputs": None}), JSON, "text 0 is a JSON null, not a string"),
    Case("nested-list", _json({"inputs": [["a"]]}), JSON, "text 0 is a JSON array, not a string"),
    Case(
        "too-many-texts",
        _json({"inputs": ["ok"] * (MAX_TEXTS + 1)}),
        JSON,
        f"the limit is {MAX_TEXTS} (MAX_TEXTS_PER_REQUEST)",
    ),
    Case(
        "text-too-long",
        _json({"inputs": ["x" * (MAX_CHARS + 1)]}),
        JSON,
        f"the limit is {MAX_CHARS} (MAX_CHARS_PER_TEXT)",
    ),
    Case("unsupported-content-type", b"great dress", "text/plain", "unsupported content type 'text/plain'"),
    Case("jsonlines-malformed-line", b'{"inputs": "a"}\nnot json\n', JSONLINES, "line 2 is not valid JSON"),
    Case("jsonlines-list-per-line", b'{"inputs": ["a", "b"]}\n', JSONLINES, "line 1 must be"),
    Case("jsonlines-not-utf8", b'"caf\xe9"\n', JSONLINES, "request body is not UTF-8 text"),
    Case("csv-two-columns", b"great,dress\n", CSV, "CSV row 1 has 2 columns"),
    Case("csv-empty-cell", b'good\n""\n', CSV, "text 1 is empty"),
    Case("unsupported-accept", _json({"inputs": "a"}), JSON, "unsupported Accept type 'text/html'", accept="text/html"),
]


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]
