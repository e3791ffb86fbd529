"""The files this instance processes, each with its format and column mapping."""

from __future__ import annotations

import logging
from pathlib import Path

from ml_code.preprocessing.cluster import HostIdentity
from ml_code.preprocessing.columns import ColumnMap, resolve_columns
from ml_code.preprocessing.config import JobConfig
from ml_code.preprocessing.errors import InputError
from ml_code.preprocessing.formats import SUFFIXES, Source, detect, find_input_files
from ml_code.preprocessing.readers import read_header
from ml_code.preprocessing.report import Report

LOG = logging.getLogger(__name__)


def _checked(path: Path, config: JobConfig) -> tuple[Source, ColumnMap]:
    source = detect(path, config.input_dir, config.input_format)
    return source, resolve_columns(source.path, read_header(source), config.columns)


def find_sources(config: JobConfig, identity: HostIdentity, report: Report) -> list[tuple[Source, ColumnMap]]:
    """Every input file with its format and column mapping, all checked before any row is read.

    An unreadable file fails the job, or with ``quarantine_unreadable`` is listed in the
    report's skipped files with the reason; every file unreadable fails it either way."""
    files, others = find_input_files(config.input_dir)
    not_data = f"not one of {', '.join(SUFFIXES)}"
    for path in others:
        report.skip(path.relative_to(config.input_dir).as_posix(), not_data)
        LOG.warning("skipping %s: %s", path, not_data)
    if not files:
        message = f"{config.input_dir}: no input files ({', '.join(SUFFIXES)}) found"
        if len(identity.hosts) == 1:
            raise InputError(message)
        # ShardedByS3Key gives an instance nothing when there are fewer files than instances.
        LOG.warning("%s for %s; writing empty outputs", message, identity.current_host)
    sources = []
    for path in files:
        try:
            sources.append(_checked(path, config))
        except InputError as exc:
            if not config.quarantine_unreadable:
                raise
            report.skip(path.relative_to(config.input_dir).as_posix(), str(exc), quarantined=True)
            LOG.warning("quarantined (--quarantine-unreadable): %s", exc)
    if files and not sources:
        raise InputError(
            f"every input file is unreadable: all {len(files)} quarantined (--quarantine-unreadable);"
            f" the first: {next(s['reason'] for s in report.skipped_files if s['quarantined'])}"
        )
    return sources
