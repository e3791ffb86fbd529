"""The handler through the real local serving stack over HTTP: /ping, every content type, every bad request."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

from ml_code.inference import model_fn, predict_fn
from tests.ml_code.inference_cases import BAD, GOOD, ids
from tools.serve import HOST, MAX_PORT, free_port, parse_args, prepare_run_dir, server_environment


def test_ping_answers_200(server):
    with urllib.request.urlopen(server.url + "/ping", timeout=10) as response:
        assert response.status == 200


def test_server_binds_loopback_only_and_runs_in_its_own_process_group(server):
    config = (server.run_dir / "sagemaker-mms.properties").read_text()
    assert f"inference_address=http://{HOST}:{server.port}" in config and "0.0.0.0" not in config
    members = server.group_members()
    assert server.process.pid in members and len(members) >= 3  # toolkit, Java frontend, Python worker


@pytest.fixture(scope="module")
def in_process(server):
    """The served model loaded by the handler in this process, to compare answers with."""
    return model_fn(str(server.run_dir / "model"))


@pytest.mark.parametrize("case", GOOD, ids=ids(GOOD))
def test_every_content_type_is_answered_per_text_as_the_handler_answers_in_process(server, in_process, case):
    status, body = server.invoke(case.body, case.content_type, case.accept)
    assert status == 200, body
    text = body.decode()
    jsonlines = case.accept == "application/jsonlines"
    answers = [json.loads(line) for line in text.splitlines()] if jsonlines else json.loads(text)
    expected = predict_fn(case.expected, in_process)
    assert [a["label"] for a in answers] == [e["label"] for e in expected]
    for answer, reference in zip(answers, expected, strict=True):
        assert set(answer) == {"label", "sentiment", "score", "probabilities", "num_tokens", "truncated"}
        assert (answer["num_tokens"], answer["truncated"]) == (reference["num_tokens"], reference["truncated"])
        assert answer["probabilities"] == pytest.approx(reference["probabilities"], abs=1e-5)


@pytest.mark.parametrize("case", BAD, ids=ids(BAD))
def test_every_bad_request_is_a_400_with_the_handlers_message(server, case):
    status, body = server.invoke(case.body, case.content_type, case.accept)
    assert status == 400, body
    assert case.expected in json.loads(body)["message"]


def test_worker_survives_every_bad_request_and_keeps_serving(server):
    before = set(server.group_members())
    for case in BAD:
        assert server.invoke(case.body, case.content_type, case.accept)[0] == 400
    status, body = server.invoke(GOOD[1].body, GOOD[1].content_type)
    assert status == 200 and len(json.loads(body)) == len(GOOD[1].expected)
    assert set(server.group_members()) == before  # no worker died and was replaced


def test_run_dir_rejects_a_model_without_inference_code(tmp_path, tiny_roberta):
    with pytest.raises(ValueError, match="no code/inference.py"):
        prepare_run_dir(tiny_roberta, tmp_path / "run")


def test_server_environment_points_the_toolkit_at_the_run_folder(tmp_path):
    env = server_environment(tmp_path, 9123, {"PATH": "/usr/bin", "PYTHONPATH": "/elsewhere"})
    assert env["SAGEMAKER_BASE_DIR"] == str(tmp_path) and env["SAGEMAKER_BIND_TO_PORT"] == "9123"
    assert env["TMPDIR"] == env["TEMP"] == str(tmp_path / "tmp")  # pid file and worker sockets per server
    assert "PYTHONPATH" not in env  # the worker imports code/ml_code from the model, not the repo's
    assert env["PATH"] == f"{Path(sys.executable).parent}:/usr/bin"  # the venv's multi-model-server CLI


def test_cli_requires_an_existing_model(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--model", str(tmp_path / "missing.tar.gz")])
    assert "--model must name an existing" in capsys.readouterr().err


def test_free_ports_stay_below_the_model_servers_limit():
    ports = [free_port() for _ in range(20)]
    assert all(20000 <= port <= MAX_PORT for port in ports)
    assert len(set(ports)) > 1  # random, so side-by-side servers rarely race for one port


def test_cli_refuses_ports_the_model_server_cannot_bind(tiny_roberta, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--model", str(tiny_roberta), "--port", "40000"])
    assert "--port must be between 1 and 32766" in capsys.readouterr().err
