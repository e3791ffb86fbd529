"""Execution variables: Execution.StartDateTime in SageMaker's format, settable, recorded in run.json."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from local_runner.executor import PipelineExecution, parse_datetime, sagemaker_datetime
from local_runner.processes import python_shim
from local_runner.registry import LocalRegistry
from local_runner.report import write_run_files
from local_runner.step_environment import Console

SAGEMAKER_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# One Fail step whose message shows what the expressions evaluated to.
DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [],
    "Steps": [
        {
            "Name": "Show",
            "Type": "Fail",
            "Arguments": {
                "ErrorMessage": {
                    "Std:Join": {
                        "On": " ",
                        "Values": [{"Get": "Execution.StartDateTime"}, {"Get": "Execution.CurrentDateTime"}],
                    }
                }
            },
        }
    ],
}


def _execution(tmp_path, start_time=None) -> PipelineExecution:
    return PipelineExecution(
        json.loads(json.dumps(DEFINITION)),
        pipeline_name="p",
        execution_id="e-1",
        run_dir=tmp_path / "run",
        parameters={},
        registry=LocalRegistry(tmp_path / "registry"),
        region="us-east-1",
        account="000000000000",
        bin_dir=python_shim(tmp_path / "bin"),
        console=Console(),
        start_time=start_time,
    )


def test_start_datetime_is_utc_with_milliseconds_and_z_as_sagemaker_renders_it():
    assert sagemaker_datetime(datetime(2026, 12, 2, 3, 0, 12, 345678, tzinfo=UTC)) == "2026-12-02T03:00:12.345Z"
    plus_two = timezone(timedelta(hours=2))
    assert sagemaker_datetime(datetime(2026, 12, 2, 5, 0, 0, tzinfo=plus_two)) == "2026-12-02T03:00:00.000Z"
    with pytest.raises(ValueError, match="no time zone"):
        sagemaker_datetime(datetime(2026, 12, 2))


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-02T03:00:12.345Z",
        "2026-12-02T03:00:12.345z",
        "2026-12-02T04:00:12.345+01:00",
        "2026-12-02T03:00:12.345",
    ],
)
def test_window_ends_parse_with_a_zone_or_as_utc(text):
    assert parse_datetime(text) == datetime(2026, 12, 2, 3, 0, 12, 345000, tzinfo=UTC)


def test_a_malformed_date_time_is_refused_with_an_example():
    with pytest.raises(ValueError, match="not an ISO 8601 date-time"):
        parse_datetime("yesterday")


def test_a_given_start_time_is_what_steps_read_and_run_json_records(tmp_path):
    execution = _execution(tmp_path, datetime(2026, 12, 2, 3, 0, 12, 345000, tzinfo=UTC))
    result = execution.run()
    start, current = result.failure_reason.split()
    assert start == "2026-12-02T03:00:12.345Z"
    assert SAGEMAKER_FORMAT.match(current) and current != start  # CurrentDateTime is the real clock
    assert result.ended - result.started < 60  # durations are measured on the real clock
    (tmp_path / "run").mkdir(exist_ok=True)
    run_json, report = write_run_files(result, tmp_path / "run", DEFINITION, {})
    assert json.loads(run_json.read_text())["start_datetime"] == "2026-12-02T03:00:12.345Z"
    assert "Execution.StartDateTime 2026-12-02T03:00:12.345Z" in report.read_text()


def test_by_default_the_start_time_is_when_the_execution_started(tmp_path):
    before = datetime.now(UTC)
    result = _execution(tmp_path).run()
    start = result.failure_reason.split()[0]
    assert SAGEMAKER_FORMAT.match(start) and result.start_datetime == start
    assert before - timedelta(seconds=1) <= parse_datetime(start) <= datetime.now(UTC)
