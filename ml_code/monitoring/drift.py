"""Evidently reports: drift and data quality of the window against the reference, model quality
of the labelled predictions, and the figures the job publishes, read from them.

Drift methods are fixed per column type, so a score means one thing whatever the sample size
(Evidently's automatic choice switches tests at 1,000 rows):
  numerical    Wasserstein distance normed by the reference's standard deviation; drift when
               >= --drift-threshold
  categorical  Jensen-Shannon distance; drift when >= --drift-threshold
  text         "Absolute text content drift": ROC AUC of a TF-IDF domain classifier telling
               window from reference texts; drift when > 0.55 (Evidently's default). It needs
               no NLTK data: only scikit-learn.
Accuracy, macro F1 and per-class recall are computed here (``classification_metrics``); the
ClassificationPreset report shows the same figures with confusion matrices.
"""

from __future__ import annotations

import logging
import warnings

import pandas as pd

from ml_code.monitoring.record_preprocessor import FEATURES, LABELS

LOG = logging.getLogger("ml_code.monitoring.drift")
TEXT = "review_text"
CATEGORICAL = ("truncated", "predicted_label")
NUMERICAL = tuple(f for f in FEATURES if f not in CATEGORICAL)
DRIFT_COLUMNS = (*FEATURES, TEXT)
NUM_METHOD, CAT_METHOD, TEXT_METHOD = "wasserstein", "jensenshannon", "abs_text_content_drift"
TEXT_THRESHOLD = 0.55


def _frame(rows: pd.DataFrame, text: bool) -> pd.DataFrame:
    frame = rows[[*FEATURES, *([TEXT] if text else [])]].copy()
    frame["truncated"] = frame["truncated"].astype(int).astype(str)  # a category, not a number
    frame["predicted_label"] = frame["predicted_label"].astype(str)
    for column in NUMERICAL:
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype(float)
    if text:
        frame[TEXT] = frame[TEXT].fillna("").astype(str)
    return frame


def drift_report(reference: pd.DataFrame, current: pd.DataFrame, threshold: float):
    """(Evidently snapshot, {column: {score, threshold, method, drifted}}, error or None).
    Text drift that cannot be computed (e.g. texts with no term TF-IDF keeps) is left out and
    its error returned; the other columns are still judged."""
    try:
        return (*_drift(reference, current, threshold, text=True), None)
    except ValueError as error:
        LOG.warning("[drift] text drift failed (%s); judging the other columns without it", error)
        return (*_drift(reference, current, threshold, text=False), f"{type(error).__name__}: {error}")


def _drift(reference: pd.DataFrame, current: pd.DataFrame, threshold: float, text: bool):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    definition = DataDefinition(
        numerical_columns=list(NUMERICAL), categorical_columns=list(CATEGORICAL), text_columns=[TEXT] if text else []
    )
    columns = [c for c in DRIFT_COLUMNS if text or c != TEXT]
    preset = DataDriftPreset(
        columns=columns,
        num_method=NUM_METHOD,
        cat_method=CAT_METHOD,
        text_method=TEXT_METHOD,
        num_threshold=threshold,
        cat_threshold=threshold,
        text_threshold=TEXT_THRESHOLD,
    )
    report = Report([preset, DataSummaryPreset()], include_tests=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy/sklearn chatter on small or constant columns
        snapshot = report.run(
            Dataset.from_pandas(_frame(current, text), data_definition=definition),
            Dataset.from_pandas(_frame(reference, text), data_definition=definition),
        )
    return snapshot, feature_drift(snapshot.dict())


def feature_drift(result: dict) -> dict[str, dict]:
    """Per column, from a snapshot's dict: ValueDrift's score and its test's verdict."""
    verdicts = {
        test["metric_config"]["params"].get("column"): test["status"]
        for test in result.get("tests", [])
        if test["metric_config"]["params"].get("type") == "evidently:metric_v2:ValueDrift"
    }
    drift = {}
    for metric in result["metrics"]:
        config = metric["config"]
        if config.get("type") == "evidently:metric_v2:ValueDrift":
            column = config["column"]
            drift[column] = {
                "score": float(metric["value"]),
                "threshold": float(config["threshold"]),
                "method": config["method"],
                "drifted": verdicts.get(column) == "FAIL",
            }
    return {column: drift[column] for column in DRIFT_COLUMNS if column in drift}


def quality_report(labelled: pd.DataFrame):
    """Evidently's ClassificationPreset on rows with ``label`` (truth) and ``predicted_label``."""
    from evidently import DataDefinition, Dataset, MulticlassClassification, Report
    from evidently.presets import ClassificationPreset

    definition = DataDefinition(
        categorical_columns=["label", "predicted_label"],
        classification=[MulticlassClassification(target="label", prediction_labels="predicted_label")],
    )
    frame = labelled[["label", "predicted_label"]].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Report([ClassificationPreset()]).run(Dataset.from_pandas(frame, data_definition=definition), None)


def classification_metrics(truth: list[str], predicted: list[str]) -> dict:
    """Accuracy, macro F1 (over the classes present in truth or predictions) and recall of each
    class with labelled examples; ``support`` counts them."""
    if len(truth) != len(predicted) or not truth:
        raise ValueError("classification metrics need as many predictions as labels, at least one")
    classes = [c for c in LABELS if c in truth or c in predicted]
    classes += sorted((set(truth) | set(predicted)) - set(classes))
    correct = sum(t == p for t, p in zip(truth, predicted, strict=False))
    recall, f1, support = {}, {}, {}
    for c in classes:
        tp = sum(t == c and p == c for t, p in zip(truth, predicted, strict=False))
        actual, guessed = truth.count(c), predicted.count(c)
        precision_c = tp / guessed if guessed else 0.0
        recall_c = tp / actual if actual else 0.0
        f1[c] = 2 * precision_c * recall_c / (precision_c + recall_c) if precision_c + recall_c else 0.0
        if actual:
            recall[c], support[c] = recall_c, actual
    return {
        "accuracy": correct / len(truth),
        "macro_f1": sum(f1.values()) / len(classes),
        "recall": recall,
        "support": support,
    }
