"""Evaluate the trained model on the test split for the pipeline's quality gate and the registry.

SageMaker Processing runs it as `python ml_code/evaluate.py` with the training job's
model.tar.gz in --model-dir and the test split folder in --test-dir. It writes to --output-dir:
  evaluation.json          model-registry multiclass form; the gate reads
                           multiclass_classification_metrics.accuracy.value. Beside it,
                           post-training bias (ml_code/common/facets.py), per facet column of
                           the test split: bias.facets.<column>.<value>.{count, accuracy,
                           recall.<class>, below_min_group_size} and, always present,
                           bias.max_accuracy_gap.{value, facet, groups, min_group_size}: the
                           largest accuracy gap between groups of at least --min-group-size
                           examples (0.0 when no facet has two such groups), which the gate
                           compares with MaxFacetAccuracyGap
  confusion_matrix.png     counts, actual classes as rows
  evaluation_report.md     headline metrics vs the majority-class baseline, per class, matrix,
                           accuracy per facet value
Tracks one MLflow run (ml_code/tracking): every number of evaluation.json as a metric, the
three files as artifacts. evaluation.json's "tracking" holds the training run id (from the
model's tracking.json) and this run's id, "none" where not tracked: Register records the
first with the model package, LinkRun tags both runs with it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.common.facets import FACET_COLUMNS, MIN_GROUP_SIZE, MISSING_VALUE, post_training_bias
from ml_code.tracking import (
    EVALUATION_RUN_KEY,
    NOT_TRACKED,
    RUN_FILE,
    TRACKING_KEY,
    TRAINING_RUN_KEY,
    input_uris,
    start_step_run,
)
from ml_code.tracking.flatten import flat_numbers
from ml_code.tracking.names import TRAINING_RUN_TAG

if TYPE_CHECKING:
    from ml_code.training.data import Example

LOG = logging.getLogger("ml_code.evaluate")
EVALUATION_FILE = "evaluation.json"
CONFUSION_MATRIX_FILE = "confusion_matrix.png"
REPORT_FILE = "evaluation_report.md"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=Path("/opt/ml/processing/model"),
        help="folder holding model.tar.gz, a model.tar.gz, or a model directory (default: /opt/ml/processing/model)",
    )
    parser.add_argument(
        "--test-dir",
        type=Path,
        default=Path("/opt/ml/processing/test"),
        help="test split folder (default: /opt/ml/processing/test)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path("/opt/ml/processing/evaluation"),
        help="where the three outputs go (default: /opt/ml/processing/evaluation)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="texts per forward pass (default 64)")
    parser.add_argument(
        "--min-group-size",
        type=int,
        default=MIN_GROUP_SIZE,
        help=f"smallest facet group counted in the accuracy gap (default {MIN_GROUP_SIZE})",
    )
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if args.min_group_size < 1:
        parser.error("--min-group-size must be at least 1")
    if not args.model_dir.exists():
        parser.error(f"--model-dir {args.model_dir} does not exist")
    return args


def predict_labels(model, tokenizer, examples: Sequence[Example], batch_size: int) -> list[int]:
    """Argmax class per example, in input order; batches of similar length pad little."""
    import torch

    from ml_code.training.data import make_collator

    collate = make_collator(tokenizer)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    predictions = [0] * len(examples)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            batch = collate([{"input_ids": examples[i]["input_ids"]} for i in indices]).to(model.device)
            for index, label in zip(indices, model(**batch).logits.argmax(dim=-1).tolist(), strict=True):
                predictions[index] = label
    return predictions


def read_facets(test_dir: Path) -> dict[str, list[str]]:
    """Every facet column of the test split, in read_split's example order; MISSING_VALUE
    for the rows of part files without the column (splits written before it existed)."""
    import pyarrow.parquet as pq

    from ml_code.training.data import part_files

    facets: dict[str, list[str]] = {column: [] for column in FACET_COLUMNS}
    for path in part_files(test_dir):
        parquet = pq.ParquetFile(path)
        present = [c for c in FACET_COLUMNS if c in parquet.schema_arrow.names]
        table = parquet.read(columns=present)
        for column in FACET_COLUMNS:
            values = table.column(column).to_pylist() if column in present else None
            facets[column] += values if values is not None else [MISSING_VALUE] * parquet.metadata.num_rows
    return facets


def evaluate(
    model_dir: Path, test_dir: Path, batch_size: int, min_group_size: int = MIN_GROUP_SIZE
) -> tuple[dict, int]:
    """(evaluation.json content, number of test examples)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ml_code.common.labels import ID2LABEL
    from ml_code.training.data import read_split
    from ml_code.training.metrics import registry_metrics
    from ml_code.training.packaging import resolve_model_dir

    # Unpack beside the input: on SageMaker that is the job's storage volume, not the small root disk.
    scratch_parent = model_dir if model_dir.is_dir() else model_dir.parent
    with tempfile.TemporaryDirectory(prefix="unpacked-", dir=scratch_parent) as scratch:
        path = resolve_model_dir(model_dir, Path(scratch))
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(path)
        training_run = training_run_id(path)
    if {int(k): v for k, v in model.config.id2label.items()} != ID2LABEL:
        raise ValueError(f"model labels {model.config.id2label} differ from ml_code.common.labels {ID2LABEL}")
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    # Training saved the tokenizer with model_max_length = its max_seq_length: truncate the same way.
    examples = read_split(test_dir, tokenizer.model_max_length, tokenizer.eos_token_id)
    predictions = predict_labels(model, tokenizer, examples, batch_size)
    labels = [e["labels"] for e in examples]
    evaluation = registry_metrics(labels, predictions, ID2LABEL)
    evaluation["bias"] = post_training_bias(read_facets(test_dir), labels, predictions, min_group_size)
    evaluation[TRACKING_KEY] = {TRAINING_RUN_KEY: training_run, EVALUATION_RUN_KEY: NOT_TRACKED}
    return evaluation, len(examples)


def training_run_id(model_path: Path) -> str:
    """The training run's id from the model's tracking.json; NOT_TRACKED without one."""
    try:
        return str(json.loads((model_path / RUN_FILE).read_text())["run_id"]) or NOT_TRACKED
    except (OSError, ValueError, KeyError, TypeError):
        return NOT_TRACKED


def bias_markdown(bias: dict) -> str:
    """Accuracy per facet value and the gap the gate checks, for evaluation_report.md."""
    gap = bias["max_accuracy_gap"]
    between = f" ({gap['facet']}: {' vs '.join(gap['groups'])})" if gap["groups"] else ""
    lines = [
        "## Accuracy by facet",
        "",
        f"Largest accuracy gap between groups of at least {gap['min_group_size']} examples: "
        f"{gap['value']:.4f}{between}.",
    ]
    for column, groups in bias["facets"].items():
        names = list(next(iter(groups.values()))["recall"]) if groups else []
        lines += ["", f"| {column} | count | accuracy | " + " | ".join(f"recall {n}" for n in names) + " |"]
        lines.append("|---|---|---|" + "---|" * len(names))
        for value, group in groups.items():
            recalls = " | ".join("-" if r is None else f"{r:.4f}" for r in group["recall"].values())
            small = " (too small for the gap)" if group["below_min_group_size"] else ""
            lines.append(f"| {value}{small} | {group['count']} | {group['accuracy']:.4f} | {recalls} |")
    return "\n".join(lines) + "\n"


def write_outputs(evaluation: dict, examples: int, model_source: str, output_dir: Path) -> None:
    from ml_code.training.metrics import REGISTRY_KEY
    from ml_code.training.report import evaluation_markdown, plot_confusion_matrix

    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / EVALUATION_FILE).write_text(json.dumps(evaluation, indent=2))
    plot_confusion_matrix(evaluation[REGISTRY_KEY]["confusion_matrix"], output_dir / CONFUSION_MATRIX_FILE)
    markdown = evaluation_markdown(evaluation, examples, model_source)
    (output_dir / REPORT_FILE).write_text(markdown + "\n" + bias_markdown(evaluation["bias"]))


def track_evaluation(run, evaluation: dict, output_dir: Path) -> None:
    """Every number of evaluation.json (headline, per class, per facet) and the three files."""
    run.log_metrics(flat_numbers(evaluation, skip=("confusion_matrix", TRACKING_KEY)))
    run.set_tags({TRAINING_RUN_TAG: evaluation[TRACKING_KEY][TRAINING_RUN_KEY]})
    for name in (EVALUATION_FILE, CONFUSION_MATRIX_FILE, REPORT_FILE):
        run.log_artifact(output_dir / name)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    LOG.info("effective configuration: %s", json.dumps({k: str(v) for k, v in vars(args).items()}, sort_keys=True))
    evaluation, examples = evaluate(args.model_dir, args.test_dir, args.batch_size, args.min_group_size)
    with start_step_run("Evaluate", params={"examples": examples, **input_uris()}) as run:
        evaluation[TRACKING_KEY][EVALUATION_RUN_KEY] = run.run_id
        write_outputs(evaluation, examples, str(args.model_dir), args.output_dir)
        track_evaluation(run, evaluation, args.output_dir)
    metrics = evaluation["multiclass_classification_metrics"]
    gap = evaluation["bias"]["max_accuracy_gap"]
    LOG.info(
        "[evaluation] examples=%d accuracy=%.4f baseline_accuracy=%.4f weighted_f1=%.4f macro_f1=%.4f"
        " max_facet_accuracy_gap=%.4f -> %s",
        examples,
        metrics["accuracy"]["value"],
        metrics["accuracy_best_constant_classifier"]["value"],
        metrics["weighted_f1"]["value"],
        metrics["macro_f1"]["value"],
        gap["value"],
        args.output_dir,
    )


if __name__ == "__main__":
    main()
