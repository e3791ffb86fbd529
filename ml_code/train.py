"""Fine-tune RoBERTa to classify reviews as negative, neutral or positive (Hugging Face Trainer).

SageMaker runs it in the Hugging Face training container as `python ml_code/train.py
--epochs 3 ...` (under torchrun with torch_distributed); locally: `python -m ml_code.train`.

Reads  SM_CHANNEL_TRAIN, SM_CHANNEL_VALIDATION: split folders (ml_code/common/splits.py)
       SM_CHANNEL_MODEL (optional): a model staged from S3, used instead of --model_name_or_path
Writes SM_MODEL_DIR: model, tokenizer and code/ (the inference handler), tarred by SageMaker
       SM_OUTPUT_DATA_DIR: training_history.json and training_curve.png for the run report
       --checkpoint_dir: Trainer checkpoints; a restart resumes from the latest complete one
Tracks one MLflow run (ml_code/tracking, MLFLOW_TRACKING_URI): the effective configuration and
input URIs as parameters, every Trainer log as curves, the training-health findings, the
history and curve files; its id goes into SM_MODEL_DIR/tracking.json for Evaluate.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TypedDict

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.training.hyperparameters import HYPERPARAMETERS

LOG = logging.getLogger("ml_code.train")
HISTORY_FILE = "training_history.json"
CURVE_FILE = "training_curve.png"
# Written last into a checkpoint by Trainer: a checkpoint without it was cut off mid-save.
CHECKPOINT_COMPLETE_MARKER = "trainer_state.json"


def _env_path(name: str, default: str) -> Path:
    return Path(os.environ.get(name, default))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    tuning = parser.add_argument_group("hyperparameters (SageMaker passes them as --name value)")
    for hp in HYPERPARAMETERS:
        tuning.add_argument(
            f"--{hp.name}", type=hp.parse, default=hp.default, help=f"{hp.help} (default: {hp.default})"
        )
    paths = parser.add_argument_group("paths (defaults from the SageMaker environment variables)")
    for name, env, default, what in (
        ("train_dir", "SM_CHANNEL_TRAIN", "/opt/ml/input/data/train", "train split folder"),
        ("validation_dir", "SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation", "validation split folder"),
        ("model_dir", "SM_MODEL_DIR", "/opt/ml/model", "model artifact output"),
        ("output_data_dir", "SM_OUTPUT_DATA_DIR", "/opt/ml/output/data", "history and curve output"),
    ):
        paths.add_argument(
            f"--{name}", type=Path, default=_env_path(env, default), help=f"{what} (default: ${env} or {default})"
        )
    # SageMaker syncs this folder with the estimator's checkpoint_s3_uri (and restores it after a Spot interruption).
    paths.add_argument(
        "--checkpoint_dir",
        type=Path,
        default=Path("/opt/ml/checkpoints"),
        help="checkpoints (default: /opt/ml/checkpoints)",
    )
    args = parser.parse_args(argv)
    problems = validation_errors(args)
    if problems:
        parser.error("; ".join(problems))
    return args


def validation_errors(args: argparse.Namespace) -> list[str]:
    """Bad values found before any model is loaded (hours earlier than Trainer would fail)."""
    checks = [
        (args.epochs > 0 or args.max_steps > 0, "--epochs or --max_steps must be positive"),
        (args.learning_rate >= 0, "--learning_rate must not be negative"),
        (args.per_device_train_batch_size >= 1, "--per_device_train_batch_size must be at least 1"),
        (args.per_device_eval_batch_size >= 1, "--per_device_eval_batch_size must be at least 1"),
        (0 <= args.warmup_ratio < 1, "--warmup_ratio must be in [0, 1)"),
        (args.weight_decay >= 0, "--weight_decay must not be negative"),
        (args.gradient_accumulation_steps >= 1, "--gradient_accumulation_steps must be at least 1"),
        # <s>, one token and </s>; RoBERTa has 514 positions, two of them reserved for padding offsets.
        (3 <= args.max_seq_length <= 512, "--max_seq_length must be between 3 and 512"),
        (args.early_stopping_patience >= 0, "--early_stopping_patience must not be negative"),
        (args.eval_steps >= 0, "--eval_steps must not be negative"),
        (args.logging_steps >= 1, "--logging_steps must be at least 1"),
    ]
    return [message for ok, message in checks if not ok]


def model_source(model_name_or_path: str, environ: dict[str, str] | os._Environ = os.environ) -> str:
    """The S3-staged model channel when SageMaker provides one, else the hyperparameter."""
    staged = environ.get("SM_CHANNEL_MODEL")
    if staged and Path(staged).is_dir():
        return staged
    return model_name_or_path


def latest_checkpoint(checkpoint_dir: Path) -> str | None:
    """Newest complete checkpoint-<step> folder, or None to start from scratch."""
    if not checkpoint_dir.is_dir():
        return None
    complete = [
        path
        for path in checkpoint_dir.glob("checkpoint-*")
        if path.name.split("-")[-1].isdigit() and (path / CHECKPOINT_COMPLETE_MARKER).is_file()
    ]
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1]))) if complete else None


class MixedPrecision(TypedDict, total=False):
    """The TrainingArguments that choose the precision; neither one means fp32."""

    bf16: bool
    fp16: bool


def mixed_precision(cuda: bool, bf16_supported: bool) -> MixedPrecision:
    """bf16 where the GPU has it (A10G, A100: no loss scaling needed), fp16 on older GPUs, fp32 on CPU."""
    if not cuda:
        return {}
    return {"bf16": True} if bf16_supported else {"fp16": True}


def training_arguments(args: argparse.Namespace, cuda: bool, bf16_supported: bool):
    from transformers import TrainingArguments

    # Evaluation and checkpoints go together: load_best_model_at_end needs both on one schedule.
    strategy = "steps" if args.eval_steps else "epoch"
    return TrainingArguments(
        output_dir=str(args.checkpoint_dir),
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_eval_batch_size,
        warmup_ratio=args.warmup_ratio,
        weight_decay=args.weight_decay,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        seed=args.seed,
        # Batches of similar length waste little on padding; the collator pads per batch.
        group_by_length=True,
        eval_strategy=strategy,
        save_strategy=strategy,
        eval_steps=args.eval_steps or None,
        # Typed float, but None is accepted (TrainerState.compute_steps skips it); unused with "epoch".
        save_steps=args.eval_steps or None,  # type: ignore[arg-type]
        # The newest checkpoint (to resume) and the best one (to load at the end) are all we need.
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        greater_is_better=True,
        logging_steps=args.logging_steps,
        # Keep NaN/inf in the logged loss: the training-problem checks must see it.
        logging_nan_inf_filter=False,
        # gloo is the CPU backend (NCCL needs GPUs); accelerate sets DDP up from torchrun's environment.
        # Naming a backend outside torchrun would make accelerate expect a process group, hence the check.
        ddp_backend="gloo" if not cuda and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
        # RobertaForSequenceClassification uses every parameter: skip DDP's unused-parameter scan.
        ddp_find_unused_parameters=False,
        dataloader_pin_memory=cuda,
        report_to="none",
        disable_tqdm=True,
        log_level="warning",
        log_level_replica="error",
        **mixed_precision(cuda, bf16_supported),
    )


def effective_configuration(args: argparse.Namespace, source: str, training_args) -> dict:
    import torch
    import transformers

    config = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    config.update(
        model_source=source,
        world_size=training_args.world_size,
        device=str(training_args.device),
        precision="bf16" if training_args.bf16 else "fp16" if training_args.fp16 else "fp32",
        effective_batch_size=training_args.train_batch_size
        * training_args.gradient_accumulation_steps
        * training_args.world_size,
        torch=torch.__version__,
        transformers=transformers.__version__,
    )
    return config


def load_model(source: str, max_seq_length: int):
    """(tokenizer, 3-label classifier) with the shared label names; roberta-base gets a new head."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ml_code.common.labels import ID2LABEL, LABEL2ID

    tokenizer = AutoTokenizer.from_pretrained(source)
    # Saved with the model, so the inference handler truncates exactly where training did.
    tokenizer.model_max_length = max_seq_length
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=len(ID2LABEL), id2label=dict(ID2LABEL), label2id=dict(LABEL2ID)
    )
    return tokenizer, model


def build_trainer(args: argparse.Namespace, training_args, tokenizer, model, callbacks: list):
    from transformers import EarlyStoppingCallback, PrinterCallback

    from ml_code.training.data import make_collator, read_split
    from ml_code.training.metrics import trainer_accuracy
    from ml_code.training.trainer import SentimentTrainer

    train_examples = read_split(args.train_dir, args.max_seq_length, tokenizer.eos_token_id)
    validation_examples = read_split(args.validation_dir, args.max_seq_length, tokenizer.eos_token_id)
    LOG.info("examples: train=%d validation=%d", len(train_examples), len(validation_examples))
    if args.early_stopping_patience:
        callbacks = [*callbacks, EarlyStoppingCallback(early_stopping_patience=args.early_stopping_patience)]
    trainer = SentimentTrainer(
        model=model,
        args=training_args,
        train_dataset=train_examples,
        eval_dataset=validation_examples,
        processing_class=tokenizer,
        data_collator=make_collator(tokenizer, on_gpu=training_args.device.type == "cuda"),
        compute_metrics=trainer_accuracy,
        callbacks=callbacks,
    )
    # Our metric lines replace Trainer's printed dicts, which no regex can rely on.
    trainer.remove_callback(PrinterCallback)
    return trainer


def train(args: argparse.Namespace, extra_callbacks: tuple = ()) -> dict:
    """Train, save the model artifact and the history; returns the history written to SM_OUTPUT_DATA_DIR."""
    import torch

    from ml_code.tracking import input_uris, start_step_run

    cuda = torch.cuda.is_available()
    training_args = training_arguments(args, cuda, cuda and torch.cuda.is_bf16_supported())
    source = model_source(args.model_name_or_path)
    config = effective_configuration(args, source, training_args)
    if training_args.process_index == 0:
        LOG.info("effective configuration: %s", json.dumps(config, sort_keys=True))
    with start_step_run("Train", primary=training_args.process_index == 0, params=config) as run:
        run.log_params(input_uris())
        history = _train_tracked(args, training_args, source, config, run, extra_callbacks)
    return history


def _train_tracked(args, training_args, source: str, config: dict, run, extra_callbacks: tuple) -> dict:
    from transformers import set_seed

    from ml_code.training.callbacks import MetricLogCallback, TrackingCallback, TrainingProblemCallback

    set_seed(args.seed)  # before the model: roberta-base's new classification head is drawn here
    tokenizer, model = load_model(source, args.max_seq_length)
    problem_callback = TrainingProblemCallback(stop_on_problem=args.stop_on_training_problem)
    callbacks = [MetricLogCallback(), problem_callback, TrackingCallback(run), *extra_callbacks]
    trainer = build_trainer(args, training_args, tokenizer, model, callbacks)

    resume_from = latest_checkpoint(args.checkpoint_dir)
    if resume_from:
        LOG.info("resuming from checkpoint %s", resume_from)
    trainer.train(resume_from_checkpoint=resume_from)
    history = {
        "effective_configuration": config,
        "resumed_from": resume_from,
        "global_step": trainer.state.global_step,
        "best_validation_accuracy": trainer.state.best_metric,
        "training_problems": [asdict(problem) for problem in problem_callback.found],
        "log_history": trainer.state.log_history,
    }
    save_outputs(trainer, args, history)
    track_outcome(run, history, args)
    LOG.info(
        "[summary] global_step=%d best_validation_accuracy=%s training_problems=%s",
        trainer.state.global_step,
        trainer.state.best_metric,
        ",".join(p.name for p in problem_callback.found) or "none",
    )
    return history


def save_outputs(trainer, args: argparse.Namespace, history: dict) -> None:
    """Model + tokenizer + inference code into SM_MODEL_DIR, history + curve into SM_OUTPUT_DATA_DIR (rank 0)."""
    from ml_code.training.packaging import write_inference_code
    from ml_code.training.report import plot_training_curve

    trainer.save_model(str(args.model_dir))  # the best checkpoint's weights (load_best_model_at_end)
    if not trainer.is_world_process_zero():
        return
    write_inference_code(args.model_dir)
    args.output_data_dir.mkdir(parents=True, exist_ok=True)
    (args.output_data_dir / HISTORY_FILE).write_text(json.dumps(history, indent=2, default=str))
    plot_training_curve(history["log_history"], args.output_data_dir / CURVE_FILE)
    LOG.info("saved model to %s and history to %s", args.model_dir, args.output_data_dir)


def track_outcome(run, history: dict, args: argparse.Namespace) -> None:
    """The run's summary, health findings and files; its id beside the model for Evaluate (rank 0)."""
    from ml_code.tracking import RUN_FILE
    from ml_code.tracking.names import HEALTH_TAG

    problems_found = history["training_problems"]
    run.log_metrics({"best_validation_accuracy": history["best_validation_accuracy"]}, step=history["global_step"])
    run.set_tags({HEALTH_TAG: ",".join(p["name"] for p in problems_found) or "ok"})
    for problem in problems_found:
        run.set_tags({f"training.problem.{problem['name']}": f"step {problem['step']}: {problem['detail']}"[:5000]})
    run.log_artifact(args.output_data_dir / HISTORY_FILE)
    run.log_artifact(args.output_data_dir / CURVE_FILE)
    if int(os.environ.get("RANK", "0")) == 0:
        args.model_dir.mkdir(parents=True, exist_ok=True)
        record = {"run_id": run.run_id, "experiment": run.context.experiment, "tracking_uri": run.context.uri}
        (args.model_dir / RUN_FILE).write_text(json.dumps(record, indent=2))


def configure_logging() -> None:
    import transformers

    # Under torchrun every rank logs; INFO from rank 0 only keeps one copy of each metric line.
    is_main = int(os.environ.get("RANK", "0")) == 0
    logging.basicConfig(
        level=logging.INFO if is_main else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stdout,
    )
    transformers.utils.logging.set_verbosity_warning()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging()
    train(args)


if __name__ == "__main__":
    main()
