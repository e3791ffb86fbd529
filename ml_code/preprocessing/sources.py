"""The files this instance processes, each with its format and column mapping."""

from __future__ import annotations

import logging

from ml_code.preprocessing.cluster import HostIdentity
from ml_code.preprocessing.columns import ColumnMap, resolve_columns
from ml_code.preprocessing.config import JobConfig
from ml_code.preprocessing.errors import InputError
from ml_code.preprocessing.formats import SUFFIXES, Source, detect, find_input_files
from ml_code.preprocessing.readers import read_header
from ml_code.preprocessing.report import Report

LOG = logging.getLogger(__name__)


def find_sources(config: JobConfig, identity: HostIdentity, report: Report) -> list[tuple[Source, ColumnMap]]:
    """Every input file with its format and column mapping, all checked before any row is read."""
    files, others = find_input_files(config.input_dir)
    report.skipped_files = [p.relative_to(config.input_dir).as_posix() for p in others]
    for path in others:
        LOG.warning("skipping %s: not one of %s", path, ", ".join(SUFFIXES))
    if not files:
        message = f"{config.input_dir}: no input files ({', '.join(SUFFIXES)}) found"
        if len(identity.hosts) == 1:
            raise InputError(message)
        # ShardedByS3Key gives an instance nothing when there are fewer files than instances.
        LOG.warning("%s for %s; writing empty outputs", message, identity.current_host)
    sources = [detect(path, config.input_dir, config.input_format) for path in files]
    return [(s, resolve_columns(s.path, read_header(s), config.columns)) for s in sources]
