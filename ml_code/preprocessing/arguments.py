"""The entry script's command line: every argument with its default, checks, and the JobConfig it makes."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from ml_code.preprocessing.columns import ROLES
from ml_code.preprocessing.config import JobConfig
from ml_code.preprocessing.feature_store import IngestSettings
from ml_code.preprocessing.formats import FORMATS

# The SageMaker processing container's paths: data in, split folders out, instance identity.
PATHS = (
    ("--input-dir", "/opt/ml/processing/input/data", "folder searched recursively for input files"),
    ("--output-dir", "/opt/ml/processing/output", "gets train/ validation/ test/ report/"),
    ("--resource-config", "/opt/ml/config/resourceconfig.json", "instance identity; absent: a single host algo-1"),
    (
        "--exit-message-file",
        "/opt/ml/output/message",
        "the failure reason (SageMaker's ExitMessage), if its folder exists",
    ),
)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks; adds each argument's default unless its help says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if "default" in (action.help or "") or action.default is argparse.SUPPRESS:
            return action.help or ""
        return f"{action.help} (default: %(default)s)"


def event_time(value: str) -> float:
    """Unix seconds from Unix seconds or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not Unix seconds or an ISO 8601 time: {value!r}") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("input and columns")
    group.add_argument(
        "--input-format", choices=FORMATS, default="auto", help="auto: detected from each file's content"
    )
    for role in ROLES:
        missing = "required" if role.required else f"if none: {role.when_missing}"
        candidates = ", ".join(role.candidates)
        group.add_argument(
            role.option,
            default="",
            metavar="NAME",
            help=f"{role.name} column ({missing}); default: the first of {candidates} that the header has",
        )
    group.add_argument(
        "--quarantine-unreadable",
        action="store_true",
        help="skip a file that cannot be read (binary, not UTF-8, corrupt, wrong format or columns), listing it"
        " with the reason under skipped_files in the report, and go on with the others; default: such a file"
        " fails the job (so does having every file skipped)",
    )
    group.add_argument(
        "--event-time",
        type=event_time,
        default=None,
        help="event time of records whose source has no date column, as Unix seconds or ISO 8601"
        " (pass the pipeline's start time so all instances agree); default: this job's start",
    )


def _add_processing_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("processing")
    group.add_argument("--tokenizer", default="roberta-base", help="Hugging Face tokenizer name or local path")
    group.add_argument("--max-seq-length", type=int, default=128, help="tokens per review, <s> and </s> included")
    balance_help = "downsample every label to the smallest label's count"
    group.add_argument("--balance", action=argparse.BooleanOptionalAction, default=True, help=balance_help)
    for split, share in (("train", 0.9), ("validation", 0.05), ("test", 0.05)):
        group.add_argument(f"--{split}-split", type=float, default=share, help=f"share of records in {split}")
    group.add_argument("--chunk-size", type=int, default=10_000, help="rows read, cleaned and tokenized at a time")
    work_help = (
        "scratch folder for the records while balancing counts labels, created if missing;"
        " default: the system temp folder"
    )
    group.add_argument("--work-dir", type=Path, default=None, help=work_help)


def _add_feature_store_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Feature Store ingestion")
    group.add_argument("--feature-group-name", default="", help="feature group to put records into; default: none")
    group.add_argument("--feature-store-concurrency", type=int, default=8, help="put_record calls in flight")
    group.add_argument("--feature-store-max-attempts", type=int, default=5, help="attempts per record on throttling")
    delay_help = "seconds before the first retry, doubled for each next one (with jitter)"
    group.add_argument("--feature-store-base-delay", type=float, default=0.2, help=delay_help)
    rate_help = "share of records allowed to fail; beyond it the job fails"
    group.add_argument("--feature-store-max-failure-rate", type=float, default=0.01, help=rate_help)


def build_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=_HelpFormatter)
    for option, default, help_text in PATHS:
        parser.add_argument(option, type=Path, default=Path(default), help=help_text)
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="log level")
    _add_data_arguments(parser)
    _add_processing_arguments(parser)
    _add_feature_store_arguments(parser)
    return parser


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """``args`` once the values argparse cannot check alone are valid; else a usage error."""
    splits = (args.train_split, args.validation_split, args.test_split)
    if min(splits) < 0 or args.train_split == 0 or abs(sum(splits) - 1) > 1e-6:
        parser.error(f"--train-split, --validation-split and --test-split must be >= 0 and sum to 1, got {splits}")
    for name in ("max_seq_length", "chunk_size", "feature_store_concurrency", "feature_store_max_attempts"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.feature_store_max_failure_rate <= 1:
        parser.error("--feature-store-max-failure-rate must be between 0 and 1")
    return args


def to_config(args: argparse.Namespace) -> JobConfig:
    feature_store = None
    if args.feature_group_name:
        feature_store = IngestSettings(
            args.feature_group_name,
            concurrency=args.feature_store_concurrency,
            max_attempts=args.feature_store_max_attempts,
            base_delay=args.feature_store_base_delay,
            max_failure_rate=args.feature_store_max_failure_rate,
        )
    return JobConfig(
        input_dir=args.input_dir,
        output_dir=args.output_dir,
        resource_config=args.resource_config,
        tokenizer=args.tokenizer,
        work_dir=args.work_dir,
        input_format=args.input_format,
        columns={role.name: getattr(args, role.option[2:].replace("-", "_")) for role in ROLES},
        max_seq_length=args.max_seq_length,
        balance=args.balance,
        split_fractions=(args.train_split, args.validation_split, args.test_split),
        chunk_size=args.chunk_size,
        event_time=time.time() if args.event_time is None else args.event_time,
        feature_store=feature_store,
        quarantine_unreadable=args.quarantine_unreadable,
    )
