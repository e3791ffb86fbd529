"""Processing step: reviews -> cleaned, labelled, balanced, split, RoBERTa-tokenized Parquet.

Runs unchanged in the SageMaker processing container (``python ml_code/preprocess.py``,
paths under /opt/ml by default) and locally (``python -m ml_code.preprocess --input-dir
data/sample --output-dir build/out --tokenizer build/tiny-roberta``).

Input: every .csv, .csv.gz, .tsv, .tsv.gz and .parquet file below --input-dir, streamed in
chunks. Output under --output-dir: ``train/``, ``validation/``, ``test/`` with one Parquet
part per instance (columns: ml_code.common.features, input_ids as list<int32>), and
``report/processing_report-<host>.json`` (row accounting, label counts, token lengths and
pre-training bias per facet value: see ml_code/preprocessing/report.py), also logged as an
MLflow run (ml_code/preprocessing/tracking.py). With N instances and ShardedByS3Key input each
instance processes its own files; split membership is a function of the review id, so it
is the same as in one run. Balancing is per instance: see ml_code/preprocessing/sampling.py
for exactly what sharded and single runs share.

Bad input costs as little as it can: a bad row (control character, broken quoting, bad
rating...) is rejected and counted by reason; a review id seen again on this instance is
kept once (duplicate_id, ml_code/preprocessing/dedup.py). A file that cannot be read fails
the job with one line naming it, unless --quarantine-unreadable lists it under the report's
skipped_files and goes on. The tokenizer is loaded from its tokenizer.json by the
tokenizers library; transformers only when that cannot reproduce it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.common.splits import REPORT_DIR, report_file_name
from ml_code.preprocessing.arguments import build_parser, check, to_config
from ml_code.preprocessing.errors import FeatureStoreError, InputError
from ml_code.preprocessing.job import run
from ml_code.preprocessing.tracking import track_report

LOG = logging.getLogger("preprocess")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser(__doc__)
    return check(parser, parser.parse_args(argv))


def _fail(message: str, exit_message_file: Path) -> NoReturn:
    line = " ".join(message.split())  # one line, for the log and SageMaker's ExitMessage
    LOG.error("%s", line)
    if exit_message_file.parent.is_dir():
        exit_message_file.write_text(line[:1024], encoding="utf-8")
    raise SystemExit(f"preprocess: {line}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    config = to_config(args)
    LOG.info("configuration: %s", config.as_json())
    try:
        report = run(config)
    except (InputError, FeatureStoreError) as exc:
        _fail(str(exc), args.exit_message_file)
    LOG.info("done on %s: %s", report.host, report.summary())
    track_report(report, config.output_dir / REPORT_DIR / report_file_name(report.host))


if __name__ == "__main__":
    main()
