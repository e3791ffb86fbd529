"""make bench-train: training throughput with dynamic padding + length grouping vs fixed padding.

The same small model as the tests (tools/tiny_roberta: hidden 64, 2 layers, tokenizer from the
sample data) on the real data set, on CPU, through the real training path (train.py's
TrainingArguments, SentimentTrainer, make_collator). Two modes, interleaved --repeats times in
one process so machine load hits both alike:
  dynamic  train.py: length-grouped batches, each padded to its own longest sequence
  padded   the course: random batches, every one padded to --max-seq-length
Each mode first runs a few untimed warm-up steps. A measurement times whole steps from the
first step's start to the last one's end; --steps is a multiple of 50 because the length-grouped
sampler sorts each "megabatch" of 50 batches longest first, and a partial megabatch would time
the long batches only. Medians are quoted; the last line is
``ratio=<dynamic samples/s / padded samples/s>`` (target >= 1.6).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REAL_DATA = ROOT.parent / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"
SAMPLE_DATA = ROOT / "data" / "sample" / "womens_clothing_reviews_sample.csv.gz"
TARGET = 1.6
MODES = ("dynamic", "padded")
# transformers' LengthGroupedSampler: batches are sorted by length in groups of 50.
MEGABATCH = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REAL_DATA, help=f"review CSV (default {REAL_DATA})")
    parser.add_argument("--steps", type=int, default=100, help="optimizer steps per measurement (default 100)")
    parser.add_argument("--warmup-steps", type=int, default=10, help="untimed steps per mode first (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per mode, median kept (default 3)")
    parser.add_argument("--batch-size", type=int, default=32, help="as train.py's default (32)")
    parser.add_argument("--max-seq-length", type=int, default=128, help="as train.py's and the course's default (128)")
    # One thread: on a shared machine more OpenMP threads than free cores spin against each
    # other and turn a 0.1 s step into seconds at random, which swamps the ratio.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        parser.error(f"{args.data} not found: the benchmark needs the real data set (../shared/data)")
    if args.steps % MEGABATCH:
        parser.error(f"--steps must be a multiple of {MEGABATCH} (whole length-grouped megabatches)")
    return args


def build_examples(data: Path, tokenizer, max_length: int) -> list[dict]:
    """Every review with a text, tokenized as preprocessing does (unpadded, truncated), with its label."""
    import pandas as pd

    from ml_code.common.labels import sentiment_for_stars

    frame = pd.read_csv(data, index_col=0)
    frame = frame[frame["Review Text"].fillna("").str.strip() != ""]
    ids = tokenizer(frame["Review Text"].str.strip().tolist(), truncation=True, max_length=max_length)["input_ids"]
    labels = [sentiment_for_stars(int(stars)).label_id for stars in frame["Rating"]]
    return [{"input_ids": i, "labels": label} for i, label in zip(ids, labels, strict=True)]


def measure(mode: str, steps: int, examples: list[dict], model_dir: Path, tokenizer, args, scratch: Path) -> float:
    """Samples/s of one short training run of ``steps`` steps in ``mode``."""
    from transformers import AutoModelForSequenceClassification, PrinterCallback, TrainerCallback, TrainingArguments

    from ml_code import train
    from ml_code.training.data import make_collator
    from ml_code.training.trainer import SentimentTrainer

    clock: list[float] = []

    class StepClock(TrainerCallback):
        def on_step_begin(self, *_, **__):
            if not clock:
                clock.append(time.perf_counter())

        def on_step_end(self, *_, **__):
            clock[1:] = [time.perf_counter()]

    cli = ["--max_steps", str(steps), "--per_device_train_batch_size", str(args.batch_size)]
    cli += ["--logging_steps", str(steps), "--checkpoint_dir", str(scratch / mode)]
    defaults = train.training_arguments(train.parse_args(cli), cuda=False, bf16_supported=False).to_dict()
    # Only the training loop is timed: no evaluation or checkpoints; the modes differ in batching alone.
    overrides = {"eval_strategy": "no", "save_strategy": "no", "load_best_model_at_end": False}
    training_args = TrainingArguments(**{**defaults, **overrides, "group_by_length": mode == "dynamic"})
    trainer = SentimentTrainer(
        model=AutoModelForSequenceClassification.from_pretrained(model_dir),
        args=training_args,
        train_dataset=examples,
        processing_class=tokenizer,
        data_collator=make_collator(tokenizer, pad_to_max_length=mode == "padded", max_length=args.max_seq_length),
        callbacks=[StepClock()],
    )
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    return steps * args.batch_size / (clock[1] - clock[0])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch
    from transformers.utils import logging as hf_logging

    from tools.tiny_roberta import build_model, build_tokenizer, review_texts

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="bench-train-") as scratch_dir:
        scratch = Path(scratch_dir)
        tokenizer = build_tokenizer(review_texts([SAMPLE_DATA]), scratch / "tiny")
        build_model(tokenizer, scratch / "tiny")
        examples = build_examples(args.data, tokenizer, args.max_seq_length)
        lengths = [len(e["input_ids"]) for e in examples]
        capped = sum(n == args.max_seq_length for n in lengths) / len(lengths)
        print(
            f"{len(examples)} reviews; tokens per review: mean {statistics.mean(lengths):.1f}, "
            f"{capped:.0%} cut at {args.max_seq_length}; batch {args.batch_size}; "
            f"torch threads {torch.get_num_threads()}",
            flush=True,
        )
        for mode in MODES:
            measure(mode, args.warmup_steps, examples, scratch / "tiny", tokenizer, args, scratch / "warm-up")
        results: dict[str, list[float]] = {mode: [] for mode in MODES}
        for repeat in range(args.repeats):
            for mode in MODES:
                speed = measure(mode, args.steps, examples, scratch / "tiny", tokenizer, args, scratch / str(repeat))
                results[mode].append(speed)
                print(f"  repeat {repeat + 1}: {mode:<7} {results[mode][-1]:8.1f} samples/s", flush=True)
    medians = {mode: statistics.median(values) for mode, values in results.items()}
    for mode in MODES:
        print(f"{mode:<7} median {medians[mode]:8.1f} samples/s")
    ratio = medians["dynamic"] / medians["padded"]
    print(f"target ratio >= {TARGET}: {'met' if ratio >= TARGET else 'MISSED'}")
    print(f"ratio={ratio:.2f}")


if __name__ == "__main__":
    main()
