"""ml_code/compare.py's figures against hand-computed values on small fixed capture files:
shadow pairing (by inference id, by body within the hour, first come first paired), agreement,
confusion, prediction mix, accuracy and macro F1 per variant, and the recommendation."""

from __future__ import annotations

import pytest

from ml_code import compare
from ml_code.monitoring import comparison
from tests.ml_code.monitor_fixtures import write_capture
from tests.ml_code.test_compare_fixtures import WINDOW, labels, line, metric_values, run

NEG, NEU, POS = "negative", "neutral", "positive"


@pytest.fixture
def shadow(tmp_path):
    """Champion a b c x d, challenger b a c x y (+ one malformed line); a Blue variant beside them."""
    captured = tmp_path / "capture" / "ep"
    write_capture(
        captured,
        WINDOW,
        [
            line("c1", "a", ["text a"], [(NEG, 0.9)]),
            line("c2", "b", ["text b"], [(POS, 0.8)]),
            line("c3", "c", ["text c"], [(NEU, 0.7)]),
            line("c4", None, ["text x"], [(POS, 0.6)]),
            line("c5", "d", ["text d"], [(POS, 0.5)]),
        ],
    )
    write_capture(
        captured,
        WINDOW,
        [
            line("h1", "b", ["text b"], [(POS, 0.9)]),
            line("h2", "a", ["text a"], [(NEU, 0.8)]),
            "{not json",
            line("h3", "c", ["text c"], [(NEU, 0.7)]),
            line("h4", None, ["text x"], [(NEG, 0.6)]),
            line("h5", None, ["text y"], [(NEU, 0.4)]),
        ],
        variant="Challenger",
    )
    write_capture(captured, WINDOW, ["{}", line("o1", None, ["t"], [(POS, 0.5)])], variant="Blue")
    truth = labels(
        tmp_path / "truth",
        [
            {"inference_id": "a", "label": NEG},
            {"inference_id": "b", "label": POS},
            {"inference_id": "c", "star_rating": 5},
            {"inference_id": "d", "label": POS},
            {"inference_id": "zz", "label": NEG},
        ],
    )
    return captured, truth


def test_shadow_figures_are_the_hand_computed_ones(tmp_path, shadow):
    captured, truth = shadow
    report, data, text = run(tmp_path, captured, "--ground-truth-uri", str(truth))
    assert report["status"] == "ok" and report["mode"] == "shadow" and report["endpoint"] == "ep"
    assert report["window"] == {
        "start": "2026-12-02T02:00:00+00:00",
        "end": "2026-12-02T03:00:00+00:00",
        "hours": [WINDOW],
    }
    champion, challenger = report["variants"]["champion"], report["variants"]["challenger"]
    assert (champion["variant"], challenger["variant"]) == ("AllTraffic", "Challenger")
    assert champion["records"] == 5 and challenger["records"] == 5
    assert champion["predictions"] == {NEG: 1, NEU: 1, POS: 3}
    assert champion["prediction_mix"] == pytest.approx({NEG: 0.2, NEU: 0.2, POS: 0.6})
    assert challenger["prediction_mix"] == pytest.approx({NEG: 0.2, NEU: 0.6, POS: 0.2})
    assert champion["mean_confidence"] == pytest.approx(0.7)
    assert challenger["mean_confidence"] == pytest.approx(0.68)
    # Labels a b c d: champion right on a b d -> 3/4; F1 negative 1, neutral 0, positive 0.8.
    assert champion["labelled"] == 4 and champion["accuracy"] == pytest.approx(0.75)
    assert champion["macro_f1"] == pytest.approx((1 + 0 + 0.8) / 3)
    # Challenger labelled a b c (d never reached it): right on b -> 1/3; F1 positive 2/3, others 0.
    assert challenger["labelled"] == 3 and challenger["accuracy"] == pytest.approx(1 / 3)
    assert challenger["macro_f1"] == pytest.approx(2 / 9)
    assert challenger["counts"]["malformed_lines"] == 1 and challenger["counts"]["lines"] == 6
    shadow_figures = report["shadow"]
    assert shadow_figures["pairs"] == 4
    assert (shadow_figures["paired_by_inference_id"], shadow_figures["paired_by_body"]) == (3, 1)
    assert shadow_figures["unpaired"] == {"champion": 1, "challenger": 1}
    assert shadow_figures["agreement"] == pytest.approx(0.5)
    assert shadow_figures["confusion"]["classes"] == [NEG, NEU, POS]
    assert shadow_figures["confusion"]["matrix"] == {
        NEG: {NEG: 0, NEU: 1, POS: 0},
        NEU: {NEG: 0, NEU: 1, POS: 0},
        POS: {NEG: 1, NEU: 0, POS: 1},
    }
    shared = shadow_figures["labelled_pairs"]
    assert shared["labelled"] == 3
    assert shared["champion"]["accuracy"] == pytest.approx(2 / 3)
    assert shared["champion"]["macro_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert shared["challenger"]["accuracy"] == pytest.approx(1 / 3)
    assert report["ground_truth"]["ground_truth_labels"] == 5 and report["ground_truth"]["ground_truth_unknown_id"] == 1
    assert report["counts"]["other_variants"] == {"Blue": {"files": 1, "lines": 2}}
    assert report["recommendation"] is None
    assert report["cloudwatch"] == {"enabled": False, "note": "--cloudwatch false: error rate and latency not read"}
    assert champion["cloudwatch"] == dict.fromkeys(comparison.CLOUDWATCH_FIGURES)
    values = metric_values(data)
    assert data["Namespace"] == "roberta-sentiment/Monitoring"
    assert values[("Records", "AllTraffic")] == 5 and values[("Records", "Challenger")] == 5
    assert values[("MeanConfidence", "Challenger")] == pytest.approx(0.68)
    assert values[("Accuracy", "AllTraffic")] == 0.75 and values[("MacroF1", "Challenger")] == pytest.approx(2 / 9)
    assert values[("Agreement", "Challenger")] == 0.5 and ("ChallengerRecommended", "Challenger") not in values
    assert all(d["Dimensions"][0] == {"Name": "Endpoint", "Value": "ep"} for d in data["MetricData"])
    assert "| negative | 0 | 1 | 0 |" in text and "Agreement: **0.5000** (2 of 4 texts)" in text
    assert "| accuracy | 0.7500 | 0.3333 |" in text and "CloudWatch: --cloudwatch false" in text


@pytest.mark.parametrize(
    ("margin", "min_labelled", "recommended", "reason"),
    [
        ("0.1", "3", "champion", "-0.4167, less than the margin 0.1"),
        ("0.1", "4", "undecided", "challenger has 3 labelled texts, fewer than the 4 required"),
    ],
)
def test_shadow_recommendation_champion_or_undecided(tmp_path, shadow, margin, min_labelled, recommended, reason):
    captured, truth = shadow
    args = ("--ground-truth-uri", str(truth), "--recommend-margin", margin, "--recommend-min-labelled", min_labelled)
    report, data, text = run(tmp_path, captured, *args)
    assert report["recommendation"]["recommended"] == recommended
    assert reason in report["recommendation"]["reason"]
    assert metric_values(data)[("ChallengerRecommended", "Challenger")] == 0
    assert f"**Recommended: {recommended}.**" in text


def test_ab_mode_compares_distributions_and_recommends_a_better_challenger(tmp_path):
    captured = tmp_path / "capture" / "ep"
    write_capture(
        captured, WINDOW, [line(f"c{i}", f"p{i}", [f"t{i}"], [(p, 0.6)]) for i, p in enumerate([NEG, NEG, POS, POS])]
    )
    write_capture(
        captured,
        WINDOW,
        [line(f"h{i}", f"q{i}", [f"t{i}"], [(p, 0.9)]) for i, p in enumerate([NEG, POS, POS, NEU])],
        variant="Green",
    )
    truth = labels(
        tmp_path / "truth",
        [{"inference_id": f"p{i}", "label": label} for i, label in enumerate([NEG, POS, POS, NEG])]
        + [{"inference_id": f"q{i}", "label": label} for i, label in enumerate([NEG, POS, POS, NEU])],
    )
    args = ["--mode", "ab", "--challenger-variant", "Green", "--ground-truth-uri", str(truth)]
    args += ["--recommend-margin", "0.5", "--recommend-min-labelled", "4", "--endpoint-name", "other"]
    report, data, text = run(tmp_path, captured, *args)
    assert report["shadow"] is None and report["endpoint"] == "other"
    champion, challenger = report["variants"]["champion"], report["variants"]["challenger"]
    assert champion["accuracy"] == 0.5 and challenger["accuracy"] == 1.0
    # Champion: negative p 1/2 r 1/2, neutral absent, positive p 1/2 r 1/2 -> macro F1 0.5.
    assert champion["macro_f1"] == pytest.approx(0.5) and challenger["macro_f1"] == 1.0
    assert challenger["prediction_mix"] == {NEG: 0.25, NEU: 0.25, POS: 0.5}
    # 1.0 - 0.5 reaches the margin 0.5 exactly: the challenger is recommended.
    assert report["recommendation"]["recommended"] == "challenger"
    assert report["recommendation"]["accuracy_difference"] == 0.5
    values = metric_values(data)
    assert values[("ChallengerRecommended", "Green")] == 1 and ("Agreement", "Green") not in values
    assert data["MetricData"][0]["Dimensions"][0]["Value"] == "other"
    assert "Agreement" not in text and "**Recommended: challenger.**" in text


def test_shadow_pairs_by_id_across_hours_and_by_body_within_the_hour_first_come_first_paired(tmp_path):
    captured = tmp_path / "capture" / "ep"
    earlier, later = "2026/12/02/01", WINDOW
    write_capture(
        captured,
        earlier,
        [
            line("c1", "k", ["kept id"], [(NEG, 0.5)]),
            line("c2", None, ["same"], [(POS, 0.5)]),  # its copy lands an hour later: no pair
        ],
    )
    write_capture(
        captured,
        later,
        [
            line("c3", None, ["twice"], [(NEG, 0.5)]),
            line("c4", None, ["twice"], [(POS, 0.5)]),
            line("c5", None, ["two", "texts"], [(NEG, 0.5), (NEU, 0.5)]),
        ],
    )
    write_capture(captured, earlier, [line("h0", None, ["only here"], [(POS, 0.5)])], variant="Challenger")
    write_capture(
        captured,
        later,
        [
            line("h1", "k", ["kept id"], [(NEG, 0.5)]),
            line("h2", None, ["same"], [(POS, 0.5)]),
            line("h3", None, ["twice"], [(NEG, 0.5)]),
            line("h4", None, ["twice"], [(NEU, 0.5)]),
            line("h5", None, ["two", "texts"], [(NEU, 0.5), (NEU, 0.5)]),
        ],
        variant="Challenger",
    )
    report, _, _ = run(tmp_path, captured, "--window-hours", "2")
    shadow = report["shadow"]
    assert report["window"]["hours"] == [earlier, later]
    assert (shadow["paired_by_inference_id"], shadow["paired_by_body"]) == (1, 3)
    assert shadow["unpaired"] == {"champion": 1, "challenger": 2}
    # Pairs: k (neg, neg); twice (neg, neg) then (pos, neu); two texts (neg, neu) (neu, neu).
    assert shadow["paired_texts"] == 5 and shadow["agreement"] == pytest.approx(3 / 5)
    matrix = shadow["confusion"]["matrix"]
    assert (matrix[NEG][NEG], matrix[POS][NEU], matrix[NEG][NEU], matrix[NEU][NEU]) == (2, 1, 1, 1)
    assert shadow["labelled_pairs"] == {
        "labelled": 0,
        "champion": {"labelled": 0, "accuracy": None, "macro_f1": None, "recall": None},
        "challenger": {"labelled": 0, "accuracy": None, "macro_f1": None, "recall": None},
    }


def test_pairing_keeps_only_waiting_records_and_counts_text_count_mismatches():
    pairing = comparison.ShadowPairing()
    record = {"inference_id": "i", "texts": ["a", "b"], "rows": [{"predicted_label": NEG}, {"predicted_label": POS}]}
    pairing.add("challenger", record, [(1, POS)])
    assert pairing.by_id["challenger"]["i"]
    pairing.add("champion", {**record, "texts": ["a"], "rows": [{"predicted_label": NEG}]}, [])
    assert pairing.by_id == {"champion": {}, "challenger": {}}
    pairing.finish()
    figures = pairing.figures()
    assert figures["pairs"] == 1 and figures["text_count_mismatch"] == 1 and figures["agreement"] is None


@pytest.mark.parametrize(
    ("champion", "challenger", "expected"),
    [
        ({"labelled": 10, "accuracy": 0.8}, {"labelled": 10, "accuracy": 0.82}, "challenger"),
        ({"labelled": 10, "accuracy": 0.8}, {"labelled": 10, "accuracy": 0.81}, "champion"),
        ({"labelled": 9, "accuracy": 0.1}, {"labelled": 10, "accuracy": 0.9}, "undecided"),
        ({"labelled": 0, "accuracy": None}, {"labelled": 0, "accuracy": None}, "undecided"),
    ],
)
def test_recommend_needs_the_margin_on_enough_labels(champion, challenger, expected):
    verdict = comparison.recommend(champion, challenger, 0.02, 10)
    assert verdict["recommended"] == expected and verdict["margin"] == 0.02 and verdict["min_labelled"] == 10


def test_parse_args_defaults_and_refusals(capsys):
    args = compare.parse_args(["--capture-uri", "s3://b/capture/roberta-sentiment-dev-sentiment/"])
    assert (args.mode, args.champion_variant, args.challenger_variant) == ("shadow", "AllTraffic", "Challenger")
    assert args.endpoint_name == "roberta-sentiment-dev-sentiment" and args.window_hours == 24
    assert args.cloudwatch is False and args.publish_metrics is False and args.recommend_margin is None
    for bad in (["--mode", "canary"], ["--challenger-variant", "AllTraffic"], ["--cloudwatch", "yes"]):
        with pytest.raises(SystemExit):
            compare.parse_args(["--capture-uri", "x", *bad])
