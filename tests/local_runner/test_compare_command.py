"""`local_runner compare` and `serve --challenger-version` without running servers or the job:
the definition (infra's compare pipeline with local stand-ins), --mode, argument errors (exit 2),
the printed headline figures; the challenger demo's registry checks."""

from __future__ import annotations

import pytest

from local_runner.cli import main
from local_runner.comparison import build_local_compare_definition, headline_lines, summary_lines
from local_runner.demo_challenger import challenger_of, champion_of
from local_runner.demo_challenger import main as demo_main
from local_runner.errors import LocalRunnerError
from local_runner.registry import LocalRegistry

ENDPOINT = "roberta-sentiment-dev-sentiment"


@pytest.fixture(scope="module")
def built():
    return build_local_compare_definition("dev")


def _arguments(definition: dict) -> list:
    (step,) = definition["Steps"]
    return step["Arguments"]["AppSpecification"]["ContainerArguments"]


def _value(arguments: list, flag: str):
    return arguments[arguments.index(flag) + 1]


def test_the_definition_is_infras_compare_pipeline_with_local_stand_ins(built):
    (step,) = built.definition["Steps"]
    assert (step["Name"], step["Type"]) == ("CompareVariants", "Processing")
    assert "ml_code/compare.py" in step["Arguments"]["AppSpecification"]["ContainerEntrypoint"][2]
    arguments = _arguments(built.definition)
    assert _value(arguments, "--window-end") == {"Get": "Execution.StartDateTime"}
    assert (_value(arguments, "--champion-variant"), _value(arguments, "--challenger-variant")) == (
        "AllTraffic",
        "Challenger",
    )
    assert step["Arguments"]["ProcessingInputs"][0]["S3Input"]["S3Uri"] == "s3://local-assets/ml_code.tar.gz"
    assert built.pipeline_name == "roberta-sentiment-dev-compare" and built.endpoint_name == ENDPOINT
    assert built.reports_uri == f"s3://local-monitoring/comparisons/{ENDPOINT}"
    names = {p["Name"] for p in built.definition["Parameters"]}
    assert {"CaptureUri", "GroundTruthUri", "WindowHours", "PublishMetrics", "CloudWatch"} <= names


def test_mode_ab_builds_the_definition_as_for_an_ab_config_and_says_so(built):
    assert built.mode == "shadow" and "serving.challenger.mode='off'" in built.mode_source  # dev: off -> shadow
    ab = build_local_compare_definition("dev", "ab")
    assert _value(_arguments(ab.definition), "--mode") == "ab" and ab.mode == "ab"
    assert ab.mode_source.startswith("--mode ab")
    assert _value(_arguments(build_local_compare_definition("dev", "shadow").definition), "--mode") == "shadow"
    with pytest.raises(LocalRunnerError, match="--mode must be one of"):
        build_local_compare_definition("dev", "canary")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--window-end", "soon"], "--window-end: 'soon' is not an ISO 8601 date-time"),
        (["--window-hours", "0"], "--window-hours must be at least 1"),
        (["--ground-truth", "/no/such/labels"], "--ground-truth /no/such/labels: no such file"),
        (["--param", "NoSuch=1"], "no pipeline parameter NoSuch"),
    ],
)
def test_compare_cannot_start_without_its_inputs_exit_2(tmp_path, capsys, extra, message):
    (tmp_path / "capture" / ENDPOINT / "AllTraffic").mkdir(parents=True)
    code = main(["compare", "--root", str(tmp_path), "--capture-dir", str(tmp_path / "capture"), *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_compare_needs_the_endpoints_capture_folder(tmp_path, capsys):
    assert main(["compare", "--root", str(tmp_path), "--capture-dir", str(tmp_path)]) == 2
    assert f"no folder {ENDPOINT}/" in capsys.readouterr().err


REPORT = {
    "status": "ok",
    "mode": "shadow",
    "variants": {
        "champion": {"variant": "AllTraffic", "records": 300, "accuracy": 0.5, "macro_f1": 0.45, "labelled": 300},
        "challenger": {"variant": "Challenger", "records": 240, "accuracy": 0.55, "macro_f1": 0.5, "labelled": 240},
    },
    "shadow": {
        "pairs": 240,
        "paired_by_inference_id": 240,
        "paired_by_body": 0,
        "unpaired": {"champion": 60, "challenger": 0},
        "paired_texts": 240,
        "agreement": 0.8125,
        "labelled_pairs": {
            "labelled": 240,
            "champion": {"labelled": 240, "accuracy": 0.49},
            "challenger": {"labelled": 240, "accuracy": 0.55},
        },
    },
    "recommendation": {"recommended": "challenger", "reason": "challenger accuracy 0.5500 ..."},
}


def test_the_headline_figures_are_agreement_accuracy_per_variant_and_the_recommendation():
    text = "\n".join(headline_lines(REPORT))
    assert "agreement: 0.812 of 240 paired text(s) (240 pair(s): 240 by inference id, 0 by body" in text
    assert "champion   AllTraffic 300 record(s); accuracy 0.500, macro F1 0.450 on 300 labelled" in text
    assert "challenger Challenger 240 record(s); accuracy 0.550" in text and "labelled pairs: 0.550 of 240" in text
    assert "recommendation: challenger (challenger accuracy 0.5500 ...)" in text
    ab = headline_lines({"mode": "ab", "variants": {"champion": {"records": 0, "accuracy": None}}})
    assert "agreement" not in "\n".join(ab) and "accuracy n/a" in ab[1] and "recommendation: none" in ab[-1]


def test_the_summary_names_the_markdown_report(tmp_path):
    import json

    assert summary_lines(tmp_path) == [f"  no comparison.json in {tmp_path}"]
    (tmp_path / "comparison.json").write_text(json.dumps(REPORT))
    (tmp_path / "metrics.json").write_text("{}")
    lines = summary_lines(tmp_path)
    assert lines[0] == f"  report:   {tmp_path / 'comparison.md'}" and "not published" in lines[2]


def _register(registry: LocalRegistry, status: str) -> int:
    package = {"ModelPackageGroupName": "g", "ModelApprovalStatus": status, "Local": {"ModelData": ["/gone.tar.gz"]}}
    return registry.register(package, {}, "us-east-1", "000000000000")["ModelPackageVersion"]


def test_the_demo_needs_an_approved_champion_and_another_version(tmp_path, capsys):
    assert demo_main(["check", "--root", str(tmp_path)]) == 2
    assert "run `make demo` first" in capsys.readouterr().err
    registry = LocalRegistry(tmp_path / "registry")
    _register(registry, "PendingManualApproval")
    with pytest.raises(LocalRunnerError, match="no Approved model version"):
        champion_of(tmp_path)
    registry.set_status("g", 1, "Approved")
    champion = champion_of(tmp_path)
    with pytest.raises(LocalRunnerError, match="has only the champion"):
        challenger_of(tmp_path, champion, None)
    _register(registry, "PendingManualApproval")
    _register(registry, "Rejected")
    assert challenger_of(tmp_path, champion, None)["ModelPackageVersion"] == 3
    assert challenger_of(tmp_path, champion, 2)["ModelPackageVersion"] == 2
    with pytest.raises(LocalRunnerError, match="no such version"):
        challenger_of(tmp_path, champion, 9)
    assert demo_main(["check", "--root", str(tmp_path), "--base-model", str(tmp_path / "none")]) == 2
    assert demo_main(["check", "--root", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--challenger-version", "9"], "has no version 9"),
        (["--challenger-version", "1", "--challenger-percent", "150"], "--challenger-percent must be from 0 to 100"),
    ],
)
def test_serve_with_a_bad_challenger_exits_2(tmp_path, capsys, extra, message):
    registry = LocalRegistry(tmp_path / "registry")
    registry.set_status("g", _register(registry, "PendingManualApproval"), "Approved")
    assert main(["serve", "--root", str(tmp_path), *extra]) == 2
    assert message in capsys.readouterr().err
