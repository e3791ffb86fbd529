"""Champion against challenger on live traffic: the figures of ml_code/compare.py.

The endpoint's data capture holds one folder per variant (<capture>/<variant>/<yyyy>/<mm>/<dd>/<hh>/);
each captured line is read as ml_code/monitoring/capture.py reads it (``capture.parse_line``:
malformed lines, unknown content types and unreadable records counted per variant, never fatal).

Two modes:
  shadow  the challenger answers nobody: each of its records is a copy of a champion request.
          Pairs are made by eventMetadata.inferenceId when a record has one, else by identical
          request texts within the same hour folder, first come first paired; what stays alone
          is counted as unpaired on its side. On pairs: agreement (share of texts both predict
          the same) and the confusion of champion (rows) against challenger (columns).
  ab      disjoint traffic: no pairs, only each variant's distributions.

Per variant: records, texts, prediction mix, mean confidence and, where ground truth joined
(ml_code/monitoring/ground_truth.py, by inference id), accuracy and macro F1
(``drift.classification_metrics``, the drift job's). Error rate and latency come from
CloudWatch's per-variant endpoint metrics (``cloudwatch_figures``). A variant with no traffic
is a state (records 0, figures None), not an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ml_code.monitoring import capture, ground_truth, metrics, storage
from ml_code.monitoring.drift import classification_metrics
from ml_code.monitoring.record_preprocessor import LABELS

LOG = logging.getLogger("ml_code.monitoring.comparison")
CHAMPION, CHALLENGER = "champion", "challenger"
ROLES = (CHAMPION, CHALLENGER)
SHADOW, AB = "shadow", "ab"
MODES = (SHADOW, AB)
# What capture.parse_line counts for one variant; always reported, 0 when nothing happened.
CAPTURE_COUNTS = ("files", "lines", "records", "texts", "malformed_lines", "unknown_content_type", "unreadable_records")
# An hour folder's year: a capture prefix whose folders are years has no variant level.
_YEAR = re.compile(r"^\d{4}$")
# Accuracies are fractions of small counts: 3/4 - 1/2 must count as reaching a margin of 0.25.
EPSILON = 1e-9


class CaptureLayoutError(ValueError):
    """The capture prefix is not laid out <endpoint>/<variant>/<yyyy>/...; the message says how."""


def variant_folders(capture_uri: str) -> list[str]:
    """The variant folders under the endpoint's capture prefix; CaptureLayoutError when capture
    files sit directly under it (hour folders or files without a variant level)."""
    folders = storage.subfolders(capture_uri)
    years = [name for name in folders if _YEAR.match(name)]
    if years or (not folders and next(storage.files(capture_uri), None) is not None):
        found = f"hour folders ({years[0]}/...)" if years else "files"
        raise CaptureLayoutError(
            f"capture under {capture_uri} has {found} directly under it, no variant folders: "
            "pass the endpoint's capture prefix <capture prefix>/<endpoint>, whose folders are the variants"
        )
    return folders


def body_key(record: dict) -> str:
    """Identity of a request's body: its texts in order (a shadow copy carries the same)."""
    return hashlib.sha256(json.dumps(record["texts"], ensure_ascii=False).encode()).hexdigest()


@dataclass
class VariantTally:
    """One variant's figures, accumulated record by record (no record kept)."""

    variant: str
    counts: Counter = field(default_factory=Counter)
    predictions: Counter = field(default_factory=Counter)
    confidence_sum: float = 0.0
    labelled: Counter = field(default_factory=Counter)  # (true class, predicted class) -> texts

    def add(self, record: dict, joined: list[tuple[int, str]]) -> None:
        for row in record["rows"]:
            self.predictions[row["predicted_label"]] += 1
            self.confidence_sum += row["confidence"]
        for index, label in joined:
            self.labelled[(label, record["rows"][index]["predicted_label"])] += 1

    def figures(self) -> dict:
        texts = sum(self.predictions.values())
        classes = _classes(self.predictions)
        return {
            "variant": self.variant,
            "records": self.counts["records"],
            "texts": texts,
            "predictions": {c: self.predictions[c] for c in classes},
            "prediction_mix": {c: self.predictions[c] / texts for c in classes} if texts else None,
            "mean_confidence": self.confidence_sum / texts if texts else None,
            **quality(self.labelled),
            "counts": {key: self.counts[key] for key in sorted({*CAPTURE_COUNTS, *self.counts})},
        }


def _classes(counted: Iterable[str]) -> list[str]:
    """The model's classes in label order, then any other predicted label seen."""
    seen = set(counted)
    return [*LABELS, *sorted(seen - set(LABELS))]


def quality(labelled: Counter) -> dict:
    """labelled, accuracy, macro_f1, recall of (truth, predicted) counts; None figures when none."""
    pairs = sorted(labelled.elements())
    if not pairs:
        return {"labelled": 0, "accuracy": None, "macro_f1": None, "recall": None}
    figures = classification_metrics([t for t, _ in pairs], [p for _, p in pairs])
    return {"labelled": len(pairs), **{k: figures[k] for k in ("accuracy", "macro_f1", "recall")}}


@dataclass
class _Pending:
    predicted: tuple[str, ...]
    labels: dict[int, str]


@dataclass
class ShadowPairing:
    """Pairs champion and challenger records of shadow traffic as they stream by (see the module
    docstring); only the predictions of records still waiting for their pair are kept."""

    by_id: dict[str, dict[str, deque]] = field(default_factory=lambda: {r: {} for r in ROLES})
    by_body: dict[str, dict[str, deque]] = field(default_factory=lambda: {r: {} for r in ROLES})
    paired: Counter = field(default_factory=Counter)  # "inference_id" / "body" -> pairs
    unpaired: Counter = field(default_factory=Counter)  # role -> records left alone
    text_count_mismatch: int = 0
    confusion: Counter = field(default_factory=Counter)  # (champion, challenger) -> texts
    shared: Counter = field(default_factory=Counter)  # (truth, champion, challenger) -> texts

    def add(self, role: str, record: dict, joined: list[tuple[int, str]]) -> None:
        entry = _Pending(tuple(row["predicted_label"] for row in record["rows"]), dict(joined))
        inference_id = record.get("inference_id")
        how, key, pending = (
            ("inference_id", inference_id, self.by_id) if inference_id else ("body", body_key(record), self.by_body)
        )
        other = CHALLENGER if role == CHAMPION else CHAMPION
        waiting = pending[other].get(key)
        if waiting:
            partner = waiting.popleft()
            if not waiting:
                del pending[other][key]
            champion, challenger = (entry, partner) if role == CHAMPION else (partner, entry)
            self._pair(how, champion, challenger)
        else:
            pending[role].setdefault(key, deque()).append(entry)

    def end_hour(self) -> None:
        """Body pairs are made within one hour folder: what waits by body now stays unpaired."""
        for role in ROLES:
            self.unpaired[role] += sum(len(waiting) for waiting in self.by_body[role].values())
            self.by_body[role] = {}

    def finish(self) -> None:
        self.end_hour()
        for role in ROLES:
            self.unpaired[role] += sum(len(waiting) for waiting in self.by_id[role].values())
            self.by_id[role] = {}

    def _pair(self, how: str, champion: _Pending, challenger: _Pending) -> None:
        self.paired[how] += 1
        if len(champion.predicted) != len(challenger.predicted):
            self.text_count_mismatch += 1
            return
        labels = champion.labels or challenger.labels
        for index, (ours, theirs) in enumerate(zip(champion.predicted, challenger.predicted, strict=True)):
            self.confusion[(ours, theirs)] += 1
            if index in labels:
                self.shared[(labels[index], ours, theirs)] += 1

    def figures(self) -> dict:
        texts = sum(self.confusion.values())
        agreeing = sum(n for (ours, theirs), n in self.confusion.items() if ours == theirs)
        classes = _classes([c for pair in self.confusion for c in pair])
        shared = {
            CHAMPION: quality(_project(self.shared, 1)),
            CHALLENGER: quality(_project(self.shared, 2)),
        }
        return {
            "pairs": sum(self.paired.values()),
            "paired_by_inference_id": self.paired["inference_id"],
            "paired_by_body": self.paired["body"],
            "unpaired": {role: self.unpaired[role] for role in ROLES},
            "text_count_mismatch": self.text_count_mismatch,
            "paired_texts": texts,
            "agreeing_texts": agreeing,
            "agreement": agreeing / texts if texts else None,
            "confusion": {
                "rows": CHAMPION,
                "columns": CHALLENGER,
                "classes": classes,
                "matrix": {ours: {theirs: self.confusion[(ours, theirs)] for theirs in classes} for ours in classes},
            },
            "labelled_pairs": {"labelled": sum(self.shared.values()), **shared},
        }


def _project(shared: Counter, position: int) -> Counter:
    """(truth, champion, challenger) counts -> (truth, that side's prediction) counts."""
    projected: Counter = Counter()
    for key, n in shared.items():
        projected[(key[0], key[position])] += n
    return projected


def scan(
    capture_uri: str,
    hours: list[str],
    variants: dict[str, str],
    labels: ground_truth.Labels,
    counts: Counter,
    pairing: ShadowPairing | None,
) -> tuple[dict[str, VariantTally], dict[str, Counter], set[str]]:
    """(tally per role, {other variant: files and lines}, inference ids joined with labels):
    the hour folders of both variants, streamed, hour by hour; other variants' lines counted only."""
    folders = variant_folders(capture_uri)
    tallies = {role: VariantTally(variants[role]) for role in ROLES}
    others = {name: Counter(files=0, lines=0) for name in folders if name not in variants.values()}
    matched: set[str] = set()
    for hour in hours:
        for role in ROLES:
            if variants[role] not in folders:
                continue
            tally = tallies[role]
            for uri in storage.files(storage.join(capture_uri, variants[role], hour)):
                tally.counts["files"] += 1
                for line in storage.lines(uri):
                    record = capture.parse_line(line, tally.counts)
                    if record is None:
                        continue
                    joined = ground_truth.join(record, labels, counts) if labels else []
                    if joined:
                        matched.add(record["inference_id"])
                    tally.add(record, joined)
                    if pairing is not None:
                        pairing.add(role, record, joined)
        for name, counter in others.items():
            for uri in storage.files(storage.join(capture_uri, name, hour)):
                counter["files"] += 1
                counter["lines"] += sum(1 for line in storage.lines(uri) if line.strip())
        if pairing is not None:
            pairing.end_hour()
        LOG.info("[compare] %s read: %s", hour, {role: tallies[role].counts["records"] for role in ROLES})
    if pairing is not None:
        pairing.finish()
    return tallies, others, matched


# -- CloudWatch: per-variant invocations, errors and latency --------------------------------------
# (figure, SageMaker metric, statistic); ModelLatency is in microseconds.
CLOUDWATCH_METRICS = (
    ("invocations", "Invocations", "Sum"),
    ("errors_4xx", "Invocation4XXErrors", "Sum"),
    ("errors_5xx", "Invocation5XXErrors", "Sum"),
    ("latency_p50", "ModelLatency", "p50"),
    ("latency_p99", "ModelLatency", "p99"),
)
CLOUDWATCH_FIGURES = ("invocations", "errors_4xx", "errors_5xx", "error_rate", "latency_p50_ms", "latency_p99_ms")


def cloudwatch_queries(endpoint: str, variants: dict[str, str], seconds: int) -> list[dict]:
    """GetMetricData queries: one period covering the whole window, so each gives one value."""
    return [
        {
            "Id": f"{role}_{figure}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": name,
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": endpoint},
                        {"Name": "VariantName", "Value": variants[role]},
                    ],
                },
                "Period": seconds,
                "Stat": statistic,
            },
            "ReturnData": True,
        }
        for role in ROLES
        for figure, name, statistic in CLOUDWATCH_METRICS
    ]


def cloudwatch_figures(cloudwatch, endpoint: str, variants: dict[str, str], start: datetime, end: datetime) -> dict:
    """{role: {invocations, errors_4xx, errors_5xx, error_rate, latency_p50_ms, latency_p99_ms}}
    (None where CloudWatch has no datapoint: a variant without traffic)."""
    queries = cloudwatch_queries(endpoint, variants, int((end - start).total_seconds()))
    values: dict[str, list[float]] = {query["Id"]: [] for query in queries}
    request = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
    while True:
        page = cloudwatch.get_metric_data(**request)
        for result in page.get("MetricDataResults", []):
            values.setdefault(result["Id"], []).extend(result.get("Values", []))
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    figures = {}
    for role in ROLES:
        got = {figure: values[f"{role}_{figure}"] for figure, _, _ in CLOUDWATCH_METRICS}
        # One period per window; should CloudWatch split it, sums add and the worst percentile stands.
        sums = {k: sum(got[k]) if got[k] else None for k in ("invocations", "errors_4xx", "errors_5xx")}
        invocations = sums["invocations"]
        errors = (sums["errors_4xx"] or 0) + (sums["errors_5xx"] or 0)
        figures[role] = {
            **sums,
            "error_rate": errors / invocations if invocations else None,
            **{f"{k}_ms": max(got[k]) / 1000 if got[k] else None for k in ("latency_p50", "latency_p99")},
        }
    return figures


# -- recommendation, metrics, Markdown ------------------------------------------------------------
def recommend(champion: dict, challenger: dict, margin: float, min_labelled: int) -> dict:
    """challenger when its accuracy beats the champion's by at least ``margin`` with at least
    ``min_labelled`` labelled texts on each side; champion when it does not; undecided when
    either side has too few labels."""
    verdict = {"margin": margin, "min_labelled": min_labelled, "accuracy_difference": None}
    short = [(role, side["labelled"]) for role, side in ((CHAMPION, champion), (CHALLENGER, challenger))]
    short = [(role, n) for role, n in short if n < min_labelled]
    if short:
        reason = "; ".join(
            f"{role} has {n} labelled texts, fewer than the {min_labelled} required" for role, n in short
        )
        return {"recommended": "undecided", "reason": reason, **verdict}
    difference = challenger["accuracy"] - champion["accuracy"]
    verdict["accuracy_difference"] = difference
    figures = (
        f"challenger accuracy {challenger['accuracy']:.4f} on {challenger['labelled']} labelled texts against "
        f"champion {champion['accuracy']:.4f} on {champion['labelled']}: {difference:+.4f}"
    )
    if difference >= margin - EPSILON:
        return {"recommended": CHALLENGER, "reason": f"{figures}, at least the margin {margin}", **verdict}
    return {"recommended": CHAMPION, "reason": f"{figures}, less than the margin {margin}", **verdict}


def metric_data(report: dict, endpoint: str, timestamp: datetime) -> list[dict]:
    """MetricData of comparison.json, dimensions Endpoint and Variant: Records, MeanConfidence,
    Labelled/Accuracy/MacroF1 when labelled, per variant; Agreement (shadow) and
    ChallengerRecommended (0/1, when a recommendation was asked) on the challenger."""
    at = timestamp.isoformat().replace("+00:00", "Z")
    data = []
    for role in ROLES:
        side = report["variants"][role]
        variant = side["variant"]
        data.append(metrics.datum("Records", side["records"], endpoint, at, "Count", Variant=variant))
        if side["mean_confidence"] is not None:
            data.append(metrics.datum("MeanConfidence", side["mean_confidence"], endpoint, at, Variant=variant))
        if side["labelled"]:
            data.append(metrics.datum("LabelledRecords", side["labelled"], endpoint, at, "Count", Variant=variant))
            data.append(metrics.datum("Accuracy", side["accuracy"], endpoint, at, Variant=variant))
            data.append(metrics.datum("MacroF1", side["macro_f1"], endpoint, at, Variant=variant))
    challenger = report["variants"][CHALLENGER]["variant"]
    if report["shadow"] and report["shadow"]["agreement"] is not None:
        data.append(metrics.datum("Agreement", report["shadow"]["agreement"], endpoint, at, Variant=challenger))
    if report["recommendation"]:
        chosen = int(report["recommendation"]["recommended"] == CHALLENGER)
        data.append(metrics.datum("ChallengerRecommended", chosen, endpoint, at, Variant=challenger))
    return data


def _cell(value, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def markdown(report: dict) -> str:
    """comparison.md: the report for people, from comparison.json's document."""
    sides = [report["variants"][role] for role in ROLES]
    head = f"| | champion ({sides[0]['variant']}) | challenger ({sides[1]['variant']}) |\n|---|---:|---:|\n"
    lines = [
        f"# Champion against challenger: {report['endpoint']}",
        "",
        f"Mode **{report['mode']}**, window {report['window']['start']} to {report['window']['end']} "
        f"({len(report['window']['hours'])} hour folders), status **{report['status']}**.",
        "",
    ]
    recommendation = report["recommendation"]
    if recommendation:
        lines += [f"**Recommended: {recommendation['recommended']}.** {recommendation['reason']}.", ""]
    rows = [
        ("records", "records", 0),
        ("texts", "texts", 0),
        ("mean confidence", "mean_confidence", 4),
        ("labelled texts", "labelled", 0),
        ("accuracy", "accuracy", 4),
        ("macro F1", "macro_f1", 4),
    ]
    table = [f"| {title} | {_cell(sides[0][key], d)} | {_cell(sides[1][key], d)} |" for title, key, d in rows]
    classes = _classes([c for side in sides for c in side["predictions"]])
    for c in classes:
        mix = [
            side["prediction_mix"][c] if side["prediction_mix"] and c in side["prediction_mix"] else None
            for side in sides
        ]
        table.append(f"| predicted {c} | {_cell(mix[0])} | {_cell(mix[1])} |")
    for figure in CLOUDWATCH_FIGURES:
        values = [_cell(side["cloudwatch"][figure]) for side in sides]
        table.append(f"| {figure.replace('_', ' ')} | {values[0]} | {values[1]} |")
    lines += ["## Per variant", "", head + "\n".join(table), ""]
    if not report["cloudwatch"]["enabled"] or report["cloudwatch"].get("error"):
        lines += [f"CloudWatch: {report['cloudwatch'].get('error') or report['cloudwatch']['note']}", ""]
    shadow = report["shadow"]
    if shadow:
        unpaired = shadow["unpaired"]
        lines += [
            "## Agreement (shadow pairs)",
            "",
            f"{shadow['pairs']} pairs ({shadow['paired_by_inference_id']} by inference id, "
            f"{shadow['paired_by_body']} by request body); unpaired: champion {unpaired[CHAMPION]}, "
            f"challenger {unpaired[CHALLENGER]}; text count mismatches {shadow['text_count_mismatch']}.",
            "",
            f"Agreement: **{_cell(shadow['agreement'])}** "
            f"({shadow['agreeing_texts']} of {shadow['paired_texts']} texts).",
            "",
            "Confusion (rows: champion's prediction, columns: challenger's):",
            "",
        ]
        names = shadow["confusion"]["classes"]
        matrix = shadow["confusion"]["matrix"]
        lines.append("| champion \\ challenger | " + " | ".join(names) + " |")
        lines.append("|---|" + "---:|" * len(names))
        lines += [f"| {ours} | " + " | ".join(str(matrix[ours][theirs]) for theirs in names) + " |" for ours in names]
        labelled = shadow["labelled_pairs"]
        lines += [
            "",
            f"On the {labelled['labelled']} labelled texts of pairs: accuracy champion "
            f"{_cell(labelled[CHAMPION]['accuracy'])}, challenger {_cell(labelled[CHALLENGER]['accuracy'])}; macro F1 "
            f"champion {_cell(labelled[CHAMPION]['macro_f1'])}, challenger {_cell(labelled[CHALLENGER]['macro_f1'])}.",
            "",
        ]
    lines += ["## Counts", "", "```", json.dumps(report["counts"], indent=1, sort_keys=True), "```", ""]
    return "\n".join(lines)
