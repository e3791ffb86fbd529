"""Record a registered model package on the MLflow runs that produced it (the LinkRun step).

The pipeline runs it after Register as `python ml_code/link_run.py --model-package-arn ARN
--model-data-uri S3URI --run-id TRAINING_RUN --run-id EVALUATION_RUN`: each run gets the tags
model_package_arn and model.artifact_uri, so a run leads to its package as the package's
MlflowRunId metadata leads to the run. Runs that were not tracked ("none") are skipped;
tracking problems log one warning and the step still succeeds.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script inside a SageMaker container: make the `ml_code` package importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ml_code.tracking import MODEL_PACKAGE_TAG, tag_runs
from ml_code.tracking.names import MODEL_ARTIFACT_TAG

LOG = logging.getLogger("ml_code.link_run")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-package-arn", required=True, help="the version Register created")
    parser.add_argument("--model-data-uri", default="", help="the model.tar.gz the version serves")
    parser.add_argument(
        "--run-id",
        action="append",
        default=[],
        help="an MLflow run to tag (repeatable); 'none' (an untracked step) is skipped",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    tags = {MODEL_PACKAGE_TAG: args.model_package_arn}
    if args.model_data_uri:
        tags[MODEL_ARTIFACT_TAG] = args.model_data_uri
    tagged = tag_runs(args.run_id, tags)
    LOG.info("[link] model_package=%s runs_tagged=%s", args.model_package_arn, ",".join(tagged) or "none")


if __name__ == "__main__":
    main()
