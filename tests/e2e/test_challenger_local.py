"""Champion and challenger on the real serving stack (two toolkit servers on one trained model),
behind the local variant router: shadow answers with the champion and mirrors the hashed share,
A/B names the variant that answered, each variant's capture lands in its own folder, and
`local_runner compare` runs the comparison pipeline's CompareVariants step on that capture."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

import pytest

from local_runner.capture import INFERENCE_ID_HEADER, CaptureWriter, capture_files
from local_runner.cli import main
from local_runner.demo_traffic import read_reviews
from local_runner.registry import LocalRegistry
from local_runner.serving import serving_variants
from local_runner.step_environment import Console
from local_runner.variant_router import CHALLENGER, CHAMPION, INVOKED_VARIANT_HEADER, VariantRouter, to_challenger
from tests.conftest import SAMPLE_DATA
from tests.ml_code.training_fixtures import trained_run

ENDPOINT = "roberta-sentiment-dev-sentiment"
MOMENT = datetime(2026, 12, 2, 10, 15, 30, tzinfo=UTC)  # the capture's hour folder: 2026/12/02/10
REVIEWS = 40
SHARE = 50


def _post(url: str, text: str, inference_id: str):
    body = json.dumps({"inputs": text}).encode()
    headers = {"Content-Type": "application/json", INFERENCE_ID_HEADER: inference_id}
    request = urllib.request.Request(url + "/invocations", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.headers.get(INVOKED_VARIANT_HEADER), json.loads(response.read())


def _ids(folder) -> set[str]:
    return {
        json.loads(line)["eventMetadata"]["inferenceId"]
        for path in capture_files(folder)
        for line in path.read_text(encoding="utf-8").split("\n")
        if line
    }


def _writers(folder) -> dict[str, CaptureWriter]:
    return {
        variant: CaptureWriter(folder, ENDPOINT, variant, clock=lambda: MOMENT) for variant in (CHAMPION, CHALLENGER)
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_roberta):
    """Both variants served from a registry whose versions 1 (Approved) and 2 share one model;
    shadow traffic with ground truth sent, then an A/B router over the same two servers."""
    root = tmp_path_factory.mktemp("challenger")
    trained = trained_run(tmp_path_factory, tiny_roberta)
    registry = LocalRegistry(root / "registry")
    packages = []
    for status in ("Approved", "PendingManualApproval"):
        package = {
            "ModelPackageGroupName": ENDPOINT,
            "ModelApprovalStatus": status,
            "Local": {"ModelData": [str(trained / "model.tar.gz")]},
        }
        packages.append(registry.register(package, {}, "us-east-1", "000000000000"))
    reviews = read_reviews(SAMPLE_DATA)[:REVIEWS]
    with (root / "labels.jsonl").open("w") as labels:
        for review in reviews:
            labels.write(json.dumps({"inference_id": f"review-{review['id']}", "star_rating": review["stars"]}) + "\n")
    shadow_writers, ab_writers = _writers(root / "shadow"), _writers(root / "ab")
    with serving_variants(packages[0], packages[1], None, Console(), "shadow", SHARE, shadow_writers) as router:
        shadow = {f"review-{r['id']}": _post(router.url, r["text"], f"review-{r['id']}") for r in reviews}
        assert router.wait_for_mirrors(60)
        champion_url, challenger_url = (router.upstreams[v].geturl() for v in (CHAMPION, CHALLENGER))
        with VariantRouter(champion_url, challenger_url, "ab", SHARE, ab_writers) as ab_router:
            ab = {f"ab-{n}": _post(ab_router.url, r["text"], f"ab-{n}") for n, r in enumerate(reviews[:20])}
    return {"root": root, "router": router, "shadow": shadow, "ab": ab, "ab_router": ab_router}


def test_shadow_answers_every_request_with_the_champion_and_captures_the_mirrored_share(served):
    shadow, root, router = served["shadow"], served["root"], served["router"]
    assert all(status == 200 and variant == CHAMPION for status, variant, _ in shadow.values())
    assert all(
        len(answer) == 1 and answer[0]["label"] in ("negative", "neutral", "positive") for *_, answer in shadow.values()
    )
    mirrored = {i for i in shadow if to_challenger(i, SHARE)}
    assert 0 < len(mirrored) < len(shadow)
    assert _ids(root / "shadow" / ENDPOINT / CHAMPION) == set(shadow)
    assert _ids(root / "shadow" / ENDPOINT / CHALLENGER) == mirrored  # the same inference ids
    assert router.counts[f"answered:{CHALLENGER}"] == len(mirrored) and router.counts["mirror_dropped"] == 0
    hours = {p.parent.relative_to(root / "shadow" / ENDPOINT).as_posix() for p in capture_files(root / "shadow")}
    assert hours == {f"{variant}/2026/12/02/10" for variant in (CHAMPION, CHALLENGER)}


def test_ab_answers_from_the_routed_variant_names_it_and_captures_it_there(served):
    ab, root = served["ab"], served["root"]
    for inference_id, (status, variant, _) in ab.items():
        assert status == 200 and variant == (CHALLENGER if to_challenger(inference_id, SHARE) else CHAMPION)
    for variant in (CHAMPION, CHALLENGER):
        assert _ids(root / "ab" / ENDPOINT / variant) == {i for i, answer in ab.items() if answer[1] == variant}


def test_compare_runs_the_comparison_pipeline_on_the_shadow_capture(served, capsys):
    root = served["root"]
    argv = ["compare", "--root", str(root), "--capture-dir", str(root / "shadow"), "--ground-truth", str(root)]
    code = main([*argv, "--window-end", "2026-12-02T11:00:00Z", "--window-hours", "1", "--execution-id", "c-1"])
    out = capsys.readouterr().out
    assert code == 0, out
    report_dir = (
        root / "runs" / "c-1" / "s3" / "local-monitoring" / "comparisons" / ENDPOINT / "2026" / "12" / "02" / "11"
    )
    assert f"report:   {report_dir / 'comparison.md'}" in out and (report_dir / "comparison.md").is_file()
    report = json.loads((report_dir / "comparison.json").read_text())
    mirrored = sum(to_challenger(i, SHARE) for i in served["shadow"])
    assert report["mode"] == "shadow" and report["status"] == "ok"
    assert report["shadow"]["pairs"] == report["shadow"]["paired_by_inference_id"] == mirrored
    assert report["shadow"]["agreement"] == 1.0  # one model behind both variants
    assert (
        report["variants"]["champion"]["records"] == REVIEWS and report["variants"]["challenger"]["records"] == mirrored
    )
    assert report["variants"]["champion"]["labelled"] == REVIEWS
    assert "agreement: 1.000" in out and "recommendation: undecided" in out  # dev asks 200 labels each
    run = json.loads((root / "runs" / "c-1" / "run.json").read_text())
    assert run["parameters"]["CloudWatch"] == "false" and run["parameters"]["PublishMetrics"] == "false"


def test_compare_reads_the_ab_capture_in_ab_mode(served, capsys):
    root = served["root"]
    argv = ["compare", "--root", str(root), "--capture-dir", str(root / "ab"), "--mode", "ab"]
    assert main([*argv, "--window-end", "2026-12-02T11:00:00Z", "--window-hours", "1", "--execution-id", "c-2"]) == 0
    out = capsys.readouterr().out
    assert "mode:         ab (--mode ab: built as for serving.challenger.mode='ab')" in out
    assert "agreement" not in out.split("Execution c-2")[1]
    routed = served["ab_router"].counts
    assert f"AllTraffic {routed['routed:' + CHAMPION]} record(s)" in out
    assert f"Challenger {routed['routed:' + CHALLENGER]} record(s)" in out
