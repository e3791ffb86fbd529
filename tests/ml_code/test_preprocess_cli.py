"""The entry script: its arguments and defaults, and how SageMaker runs it (a plain script)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ml_code import preprocess
from ml_code.preprocess import parse_args
from ml_code.preprocessing.arguments import build_parser
from tests.conftest import ROOT
from tests.ml_code.preprocess_helpers import read_all, read_report, write_csv

SCRIPT = ROOT / "ml_code" / "preprocess.py"


def test_defaults_follow_the_sagemaker_processing_contract():
    args = parse_args([])
    assert args.input_dir == Path("/opt/ml/processing/input/data")
    assert args.output_dir == Path("/opt/ml/processing/output")
    assert args.resource_config == Path("/opt/ml/config/resourceconfig.json")
    assert (args.tokenizer, args.max_seq_length, args.balance, args.input_format) == ("roberta-base", 128, True, "auto")
    assert (args.train_split, args.validation_split, args.test_split) == (0.9, 0.05, 0.05)
    assert args.feature_group_name == "" and parse_args(["--no-balance"]).balance is False


def test_help_documents_every_argument_with_its_default():
    text = build_parser(preprocess.__doc__).format_help()
    blocks = re.split(r"\n  (?=-)", text)
    for action in build_parser(preprocess.__doc__)._actions:
        if action.dest == "help":
            continue
        block = next((b for b in blocks if b.startswith(action.option_strings[0])), None)
        assert block is not None, action.dest
        assert "default" in block, f"{action.option_strings[0]} does not say its default"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1700000000", 1.7e9),
        ("2023-11-14T22:13:20Z", 1.7e9),
        ("2023-11-14T22:13:20", 1.7e9),
        ("2023-11-15T00:13:20+02:00", 1.7e9),
    ],
)
def test_event_time_takes_unix_seconds_or_an_iso_8601_time(value, seconds):
    assert parse_args(["--event-time", value]).event_time == seconds


@pytest.mark.parametrize(
    "argv",
    [
        ["--train-split", "0.8"],  # no longer sums to 1
        ["--train-split", "0", "--validation-split", "0.5", "--test-split", "0.5"],
        ["--validation-split", "-0.05", "--test-split", "0.15"],
        ["--max-seq-length", "0"],
        ["--chunk-size", "0"],
        ["--feature-store-max-failure-rate", "1.5"],
        ["--input-format", "xlsx"],
        ["--event-time", "yesterday"],
    ],
)
def test_bad_arguments_are_rejected(argv, capsys):
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "error:" in capsys.readouterr().err


def _script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """As the processing container runs it: a plain script, from a folder that is not the repo."""
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_importing_the_entry_script_does_no_work_and_loads_no_heavy_library(tmp_path):
    code = "import sys, ml_code.preprocess; print(sorted({'transformers', 'torch', 'boto3'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]" and result.stderr == ""


def test_as_a_plain_script_bad_input_exits_non_zero_with_one_line(tmp_path):
    write_csv(tmp_path / "in" / "r.csv", ["review_body"], [["text"]])
    result = _script("--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("preprocess: ")
    assert "r.csv" in result.stderr and "--rating-column" in result.stderr


def test_as_a_plain_script_it_processes_a_dataset_end_to_end(tmp_path, tiny_roberta):
    rows = [[f"text number {i}", 1 + i % 5] for i in range(40)]
    write_csv(tmp_path / "in" / "r.csv.gz", ["review_body", "star_rating"], rows)
    config = tmp_path / "resourceconfig.json"
    config.write_text('{"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}')
    result = _script(
        "--input-dir",
        str(tmp_path / "in"),
        "--output-dir",
        str(tmp_path / "out"),
        "--tokenizer",
        str(tiny_roberta),
        "--resource-config",
        str(config),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration:" in result.stderr and "done on algo-2" in result.stderr  # logged start and summary
    assert sum(len(t) for t in read_all(tmp_path / "out").values()) == 24  # 8 per label
    assert read_report(tmp_path / "out", "algo-2")["rows"]["read"] == 40
