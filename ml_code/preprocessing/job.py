"""The processing job: check the inputs, clean, balance, tokenize, write, ingest.

Records flow as a stream of Arrow batches, so memory is bounded by the chunk size, not
by the input. Cleaning yields one batch of records per input chunk. Balancing needs every
label's count before it can keep or drop a record, so with ``balance`` the stream is
spilled to local disk first and read back filtered by the per-label thresholds; without
it, cleaning feeds the tokenizer directly. Tokenizing a batch overlaps with producing the
next one and with writing the previous one.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ml_code.common.splits import REPORT_DIR, report_file_name
from ml_code.preprocessing import spill
from ml_code.preprocessing.balancing import balanced_stream
from ml_code.preprocessing.cluster import read_host_identity
from ml_code.preprocessing.columns import ColumnMap
from ml_code.preprocessing.config import JobConfig
from ml_code.preprocessing.dedup import SCOPE as DUPLICATE_SCOPE
from ml_code.preprocessing.dedup import SeenIds
from ml_code.preprocessing.errors import InputError
from ml_code.preprocessing.feature_store import Ingestor
from ml_code.preprocessing.formats import Source
from ml_code.preprocessing.output import INPUT_IDS, SCHEMA, SplitWriters
from ml_code.preprocessing.readers import iter_chunks
from ml_code.preprocessing.records import to_records
from ml_code.preprocessing.report import Report
from ml_code.preprocessing.rows import validate
from ml_code.preprocessing.sources import find_sources
from ml_code.preprocessing.tokenization import Item, Speculator, encode_batches, load_tokenizer

if TYPE_CHECKING:
    from tokenizers import Tokenizer

LOG = logging.getLogger(__name__)


def _clean_file(
    source: Source, columns: ColumnMap, config: JobConfig, report: Report, seen: SeenIds
) -> Iterator[pa.RecordBatch]:
    read = kept = 0
    rejected: Counter[str] = Counter()
    for chunk in iter_chunks(source, columns, config.chunk_size):
        valid = validate(chunk.frame)
        records = to_records(valid.frame, source.relative, config.event_time, config.split_fractions)
        chunk_rejected = valid.rejected + Counter(malformed_row=chunk.malformed)
        if columns.columns.get("id") is not None:  # derived ids cannot repeat: see dedup
            first = seen.first_seen(records["balance_key"].to_numpy())
            if not first.all():
                chunk_rejected["duplicate_id"] += int((~first).sum())
                records = records[first].reset_index(drop=True)
        read, kept = read + len(chunk.frame) + chunk.malformed, kept + len(records)
        rejected += chunk_rejected
        report.rows_read += len(chunk.frame) + chunk.malformed
        report.rejected.update(chunk_rejected)
        report.add_kept(records)
        LOG.info("%s: %d rows read, %d kept", source.relative, read, kept)
        if len(records):
            yield pa.RecordBatch.from_pandas(records, schema=spill.SPILL_SCHEMA, preserve_index=False)
    report.input_files.append(
        {"path": source.relative, "format": source.format, "rows_read": read, "rejected": dict(rejected)}
    )
    LOG.info("%s (%s) done: %d rows read, rejected %s", source.relative, source.format, read, dict(rejected) or "none")


def clean_stream(
    sources: list[tuple[Source, ColumnMap]], config: JobConfig, report: Report
) -> Iterator[pa.RecordBatch]:
    """Cleaned records of every file; fails at the end if there was nothing to keep.

    A file that breaks mid-way fails the job, or with ``quarantine_unreadable`` is listed
    as skipped (its rows read before the break stay counted and kept)."""
    seen = SeenIds()
    report.duplicate_scope = DUPLICATE_SCOPE
    broken = 0
    for source, columns in sources:
        before = report.rows_read
        try:
            yield from _clean_file(source, columns, config, report, seen)
        except InputError as exc:
            if not config.quarantine_unreadable:
                raise
            broken += 1
            report.skip(source.relative, str(exc), quarantined=True, rows_read=report.rows_read - before)
            LOG.warning("quarantined (--quarantine-unreadable) after %d rows: %s", report.rows_read - before, exc)
    if sources and broken == len(sources):
        raise InputError(f"every input file is unreadable: all {broken} quarantined (--quarantine-unreadable)")
    if sources and report.rows_read == 0:
        raise InputError(f"no data rows in {', '.join(s.relative for s, _ in sources)} (header only?)")
    if sources and report.rows_kept == 0:
        raise InputError(f"all {report.rows_read} rows were rejected: {dict(report.rejected)}")


def emit(
    records: Iterator[Item],
    tokenizer: Tokenizer,
    writers: SplitWriters,
    ingestor: Ingestor | None,
    report: Report,
) -> None:
    """Tokenize, write the splits, feed the Feature Store."""
    # closing: on failure, stop the encoder thread before the spill it reads is deleted.
    with closing(encode_batches(tokenizer, records, "review_body")) as encoded_batches:
        for batch, encoded in encoded_batches:
            table = pa.Table.from_arrays(
                [encoded.input_ids if name == INPUT_IDS else batch.column(name) for name in SCHEMA.names], schema=SCHEMA
            )
            writers.write(table)
            report.add_written(
                table["split_type"].to_pylist(), table["label_id"].to_numpy(), encoded.lengths, encoded.truncated
            )
            if ingestor is not None:
                ingestor.put_table(table)
            LOG.info("tokenized and wrote %d rows", report.rows_written)


def work_dir(path: Path | None) -> Path | None:
    """``--work-dir``, created if missing; a one-line InputError when it cannot be."""
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise InputError(f"--work-dir {path}: cannot create or write to it ({exc.strerror or exc})") from exc
    return path


def run(config: JobConfig) -> Report:
    """Process this instance's files; the report is written even when the job fails midway."""
    started = time.monotonic()
    identity = read_host_identity(config.resource_config)
    report = Report(identity.current_host, list(identity.hosts), config.as_json(), config.max_seq_length)
    sources = find_sources(config, identity, report)
    scratch = work_dir(config.work_dir)
    tokenizer = load_tokenizer(config.tokenizer, config.max_seq_length)  # before any row: fail fast
    writers = SplitWriters(config.output_dir, identity.current_host)
    ingestor = Ingestor(config.feature_store) if config.feature_store else None
    with tempfile.TemporaryDirectory(prefix="preprocess-", dir=scratch) as work:
        records = clean_stream(sources, config, report)
        speculator = None
        if config.balance:
            speculator = Speculator(tokenizer, "review_body")
            records = balanced_stream(records, Path(work) / "records.arrow", report, speculator)
        try:
            emit(records, tokenizer, writers, ingestor, report)
        except Exception as exc:
            report.error = str(exc)
            raise
        finally:
            if speculator is not None:
                speculator.close()
            writers.close()
            if ingestor is not None:
                ingestor.close()
                report.feature_store = ingestor.stats
            report.duration_seconds = time.monotonic() - started
            report.write(config.output_dir / REPORT_DIR / report_file_name(identity.current_host))
    return report
