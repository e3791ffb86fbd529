"""Human-readable outputs: the confusion-matrix and training-curve PNGs and the evaluation report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ml_code.training.metrics import REGISTRY_KEY


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # containers and CI have no display
    import matplotlib.pyplot as plt

    return plt


def plot_confusion_matrix(matrix: dict[str, dict[str, int]], path: Path) -> Path:
    """Counts with row-normalised shading, actual classes as rows (the registry's orientation)."""
    plt = _pyplot()
    names = list(matrix)
    counts = [[matrix[actual][predicted] for predicted in names] for actual in names]
    shares = [[c / max(sum(row), 1) for c in row] for row in counts]
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if shares[i][j] > 0.5 else "black")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title("Confusion matrix (test split)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_training_curve(log_history: Sequence[dict], path: Path) -> Path:
    """Training and validation loss (left) and accuracy (right) against the optimizer step."""
    plt = _pyplot()
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, label, ax in (
        ("loss", "train loss", loss_ax),
        ("eval_loss", "validation loss", loss_ax),
        ("train_accuracy", "train accuracy", acc_ax),
        ("eval_accuracy", "validation accuracy", acc_ax),
    ):
        points = [(entry["step"], entry[key]) for entry in log_history if key in entry]
        if points:
            ax.plot(*zip(*points, strict=True), marker="." if len(points) < 30 else None, label=label)
    for ax, title in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        ax.set_xlabel("step")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def evaluation_markdown(evaluation: dict, examples: int, model_source: str) -> str:
    """A short report: headline metrics against the majority-class baseline, per-class table, matrix."""
    metrics = evaluation[REGISTRY_KEY]
    matrix = metrics["confusion_matrix"]
    names = list(matrix)

    def value(key: str) -> str:
        return f"{metrics[key]['value']:.4f} ± {metrics[key]['standard_deviation']:.4f}"

    lines = [
        "# Evaluation report",
        "",
        f"Model: `{model_source}`; test examples: {examples}.",
        "",
        "| metric | value ± bootstrap std |",
        "|---|---|",
        *(
            f"| {key} | {value(key)} |"
            for key in ("accuracy", "accuracy_best_constant_classifier", "weighted_f1", "macro_f1")
        ),
        "",
        "| class | precision | recall | support |",
        "|---|---|---|---|",
        *(
            f"| {name} | {metrics[f'precision_{name}']['value']:.4f} | {metrics[f'recall_{name}']['value']:.4f} "
            f"| {sum(matrix[name].values())} |"
            for name in names
        ),
        "",
        "Confusion matrix (rows actual, columns predicted):",
        "",
        "| actual \\ predicted | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        *(f"| {actual} | " + " | ".join(str(matrix[actual][p]) for p in names) + " |" for actual in names),
        "",
    ]
    return "\n".join(lines)
