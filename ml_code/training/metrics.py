"""Classification metrics: accuracy for Trainer, and the model registry's multiclass form.

The registry form follows SageMaker Model Monitor's model-quality metrics for multiclass
classification (``multiclass_classification_metrics``, each metric as ``{"value",
"standard_deviation"}``, ``confusion_matrix`` as actual -> predicted -> count), so the
model package shows them and the pipeline reads ``multiclass_classification_metrics.accuracy.value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

REGISTRY_KEY = "multiclass_classification_metrics"
ACCURACY_JSON_PATH = f"{REGISTRY_KEY}.accuracy.value"
# Resamples of the test set for each metric's standard deviation (as Model Monitor reports one).
BOOTSTRAP_SAMPLES = 200


def trainer_accuracy(eval_prediction) -> dict[str, float]:
    """compute_metrics for Trainer: logits -> {"accuracy"} (logged as eval_accuracy)."""
    logits, labels = eval_prediction
    return {"accuracy": float((np.asarray(logits).argmax(axis=-1) == np.asarray(labels)).mean())}


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, num_classes: int
) -> np.ndarray:
    """Rows are actual classes, columns predicted ones."""
    flat = np.asarray(y_true, dtype=np.int64) * num_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise division that yields 0 where the denominator is 0 (sklearn's zero_division=0)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=float), where=denominator > 0)


def _f_beta(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    return _ratio((1 + beta**2) * precision * recall, beta**2 * precision + recall)


def scalar_metrics(cm: np.ndarray, class_names: Sequence[str]) -> dict[str, float]:
    """Every scalar metric of the registry form, from one confusion matrix (classes in index order)."""
    tp = np.diag(cm).astype(float)
    support = cm.sum(axis=1).astype(float)
    precision = _ratio(tp, cm.sum(axis=0).astype(float))
    recall = _ratio(tp, support)
    weights = support / support.sum()
    metrics = {"accuracy": float(tp.sum() / support.sum())}
    metrics["weighted_precision"] = float(weights @ precision)
    metrics["weighted_recall"] = float(weights @ recall)
    for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
        metrics[f"weighted_{name}"] = float(weights @ _f_beta(precision, recall, beta))
    metrics["macro_f1"] = float(_f_beta(precision, recall, 1.0).mean())
    # Always predicting the most frequent class: the baseline any model must beat.
    majority_share = weights.max()
    metrics["accuracy_best_constant_classifier"] = float(majority_share)
    metrics["weighted_f1_best_constant_classifier"] = float(majority_share * 2 * majority_share / (majority_share + 1))
    for index, name in enumerate(class_names):
        metrics[f"precision_{name}"] = float(precision[index])
        metrics[f"recall_{name}"] = float(recall[index])
    return metrics


def bootstrap_std(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], seed: int = 0
) -> dict[str, float]:
    """Standard deviation of each scalar metric over test sets resampled with replacement."""
    rng = np.random.default_rng(seed)
    samples = [
        scalar_metrics(confusion_matrix(y_true[idx], y_pred[idx], len(class_names)), class_names)
        for idx in (rng.integers(0, len(y_true), len(y_true)) for _ in range(BOOTSTRAP_SAMPLES))
    ]
    return {key: float(np.std([s[key] for s in samples])) for key in samples[0]}


def registry_metrics(y_true: Sequence[int], y_pred: Sequence[int], id2label: Mapping[int, str]) -> dict:
    """evaluation.json content: {"multiclass_classification_metrics": {...}} with class names as labels."""
    if len(y_true) == 0 or len(y_true) != len(y_pred):
        raise ValueError(f"need as many predictions as labels (and at least one): {len(y_true)} vs {len(y_pred)}")
    names = [id2label[index] for index in range(len(id2label))]
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    cm = confusion_matrix(truth, predicted, len(names))
    values, stds = scalar_metrics(cm, names), bootstrap_std(truth, predicted, names)
    body: dict = {key: {"value": value, "standard_deviation": stds[key]} for key, value in values.items()}
    body["confusion_matrix"] = {
        actual: {predicted: int(cm[i, j]) for j, predicted in enumerate(names)} for i, actual in enumerate(names)
    }
    return {REGISTRY_KEY: body}
