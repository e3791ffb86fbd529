"""Endpoint data capture, as SageMaker writes it and as Model Monitor's analyzer reads it.

``capture_line`` writes one JSON line of a capture file (captureData.endpointInput /
endpointOutput with observedContentType, mode, data, encoding; eventMetadata; eventVersion),
from a request body and the response our handler really gave. ``analyze`` replays what the
analyzer container does with each line: json.loads, wrap it in its CapturedData class (the
documented structure, reproduced below), load the preprocessor script from its file path,
call ``preprocess_handler(record, logger)`` and serialize the result with json.dumps.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
from pathlib import Path

from ml_code.inference import input_fn, output_fn, predict_fn

SCRIPT = Path(__file__).resolve().parents[2] / "ml_code" / "monitoring" / "record_preprocessor.py"


def handler_response(body: bytes, content_type: str, accept: str, model) -> bytes:
    """The handler's answer, as the toolkit produces it (it decodes only exact JSON/CSV types to str)."""
    decoded = body.decode() if content_type in ("application/json", "text/csv") else body
    return output_fn(predict_fn(input_fn(decoded, content_type), model), accept).encode()


def _captured(body: bytes, content_type: str, mode: str, encoding: str) -> dict:
    data = base64.b64encode(body).decode() if encoding == "BASE64" else body.decode()
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def capture_line(
    event_id: str,
    request: bytes,
    content_type: str,
    response: bytes,
    accept: str,
    encoding: str,
    response_encoding: str | None = None,
) -> str:
    record = {
        "captureData": {
            "endpointInput": _captured(request, content_type, "INPUT", encoding),
            "endpointOutput": _captured(response, accept, "OUTPUT", response_encoding or encoding),
        },
        "eventMetadata": {"eventId": event_id, "inferenceTime": "2026-11-30T10:15:00Z"},
        "eventVersion": "0",
    }
    return json.dumps(record, ensure_ascii=False)


# -- the analyzer's side: the documented record classes ----------------------------------------
class EventData:
    def __init__(self, data_dict: dict):
        self.encoding = data_dict.get("encoding")
        self.data = data_dict.get("data")
        self.observedContentType = data_dict.get("observedContentType")
        self.mode = data_dict.get("mode")


class EventMetadata:
    def __init__(self, metadata: dict):
        self.event_id = metadata.get("eventId")
        self.event_time = metadata.get("inferenceTime")
        self.custom_attribute = metadata.get("customAttributes")


class CapturedData:
    def __init__(self, event: dict):
        capture = event.get("captureData", {})
        self.event_metadata = EventMetadata(event["eventMetadata"]) if "eventMetadata" in event else None
        self.endpoint_input = EventData(capture["endpointInput"]) if "endpointInput" in capture else None
        self.endpoint_output = EventData(capture["endpointOutput"]) if "endpointOutput" in capture else None
        self.batch_transform_output = None
        self.ground_truth = None
        self.event_version = event.get("eventVersion")
        self.event_dict = event


def load_script(path: Path = SCRIPT):
    """The preprocessor as the analyzer imports it: from its file, as the module 'preprocessor'."""
    spec = importlib.util.spec_from_file_location("preprocessor", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def analyze(lines: list[str], logger: logging.Logger | None = None) -> list[list[dict]]:
    """Each capture line through the preprocessor, as the analyzer runs it: rows per line."""
    handler = load_script().preprocess_handler
    logger = logger or logging.getLogger("Preprocessing")
    results = []
    for line in lines:
        output = json.loads(json.dumps(handler(CapturedData(json.loads(line)), logger)))
        results.append(output if isinstance(output, list) else [output])
    return results
