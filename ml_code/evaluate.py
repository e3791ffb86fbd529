"""Evaluate the trained model on the test split for the pipeline's quality gate and the registry.

SageMaker Processing runs it as `python ml_code/evaluate.py` with the training job's
model.tar.gz in --model-dir and the test split folder in --test-dir. It writes to --output-dir:
  evaluation.json          model-registry multiclass form; the gate reads
                           multiclass_classification_metrics.accuracy.value
  confusion_matrix.png     counts, actual classes as rows
  evaluation_report.md     headline metrics vs the majority-class baseline, per class, matrix
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if not args.model_dir.exists():
        parser.error(f"--model-dir {args.model_dir} does not exist")
    return args


def predict_labels(model, tokenizer, examples: list[dict], batch_size: int) -> list[int]:
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


def evaluate(model_dir: Path, test_dir: Path, batch_size: int) -> tuple[dict, int]:
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
    if {int(k): v for k, v in model.config.id2label.items()} != ID2LABEL:
        raise ValueError(f"model labels {model.config.id2label} differ from ml_code.common.labels {ID2LABEL}")
    model.to("cuda" if torch.cuda.is_available() else "cpu").eval()
    # Training saved the tokenizer with model_max_length = its max_seq_length: truncate the same way.
    examples = read_split(test_dir, tokenizer.model_max_length, tokenizer.eos_token_id)
    predictions = predict_labels(model, tokenizer, examples, batch_size)
    return registry_metrics([e["labels"] for e in examples], predictions, ID2LABEL), len(examples)


def write_outputs(evaluation: dict, examples: int, model_source: str, output_dir: Path) -> None:
    from ml_code.training.metrics import REGISTRY_KEY
    from ml_code.training.report import evaluation_markdown, plot_confusion_matrix

    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / EVALUATION_FILE).write_text(json.dumps(evaluation, indent=2))
    plot_confusion_matrix(evaluation[REGISTRY_KEY]["confusion_matrix"], output_dir / CONFUSION_MATRIX_FILE)
    (output_dir / REPORT_FILE).write_text(evaluation_markdown(evaluation, examples, model_source))


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    LOG.info("effective configuration: %s", json.dumps({k: str(v) for k, v in vars(args).items()}, sort_keys=True))
    evaluation, examples = evaluate(args.model_dir, args.test_dir, args.batch_size)
    write_outputs(evaluation, examples, str(args.model_dir), args.output_dir)
    metrics = evaluation["multiclass_classification_metrics"]
    LOG.info(
        "[evaluation] examples=%d accuracy=%.4f baseline_accuracy=%.4f weighted_f1=%.4f macro_f1=%.4f -> %s",
        examples,
        metrics["accuracy"]["value"],
        metrics["accuracy_best_constant_classifier"]["value"],
        metrics["weighted_f1"]["value"],
        metrics["macro_f1"]["value"],
        args.output_dir,
    )


if __name__ == "__main__":
    main()
