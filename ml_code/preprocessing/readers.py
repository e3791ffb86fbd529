"""Stream a source file in chunks of rows, with its columns renamed to their roles.

Nothing reads a whole file: CSV/TSV through the ``csv`` module, Parquet through pyarrow
record batches. ``csv`` rather than pandas' chunked parser: pandas silently truncates a
row with too many fields when it starts a chunk, and such rows must be counted.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ml_code.preprocessing.columns import ColumnMap
from ml_code.preprocessing.errors import InputError
from ml_code.preprocessing.formats import Source

_READ_ERRORS = (UnicodeDecodeError, OSError, EOFError, zlib.error, pa.ArrowException)
# A field longer than this is an unterminated quote swallowing the rows after it: the
# parser raises on it (the row is counted malformed) instead of growing without bound.
_MAX_FIELD_CHARS = 1 << 20


@dataclass(frozen=True)
class Chunk:
    frame: pd.DataFrame  # "row" (index of the record in its file) + one column per present role
    malformed: int  # records dropped by the parser: wrong field count or broken quoting


def _open_text(source: Source) -> io.TextIOBase:
    # The wrapper owns the binary stream: closing the text handle closes it.
    raw = gzip.open(source.path, "rb") if source.gzipped else open(source.path, "rb")  # noqa: SIM115
    # utf-8-sig drops a BOM; an invalid byte becomes U+FFFD and only its row is rejected.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")


def _csv_reader(handle: io.TextIOBase, source: Source):
    csv.field_size_limit(_MAX_FIELD_CHARS)
    if source.format == "tsv":
        # The Amazon TSV is unquoted: its texts hold bare double quotes.
        return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    return csv.reader(handle)


def read_header(source: Source) -> list[str]:
    try:
        if source.format == "parquet":
            return pq.ParquetFile(source.path).schema_arrow.names
        with _open_text(source) as handle:
            return next(_csv_reader(handle, source), [])
    except (*_READ_ERRORS, csv.Error) as exc:
        raise InputError(f"{source.path}: cannot read the header as {source.format} ({exc})") from exc


def _frame(rows: list[list[str]], row_numbers: list[int], positions: dict[str, int]) -> pd.DataFrame:
    columns = {role: [row[i] for row in rows] for role, i in positions.items()}
    return pd.DataFrame({"row": row_numbers, **columns})


def _delimited_chunks(source: Source, columns: ColumnMap, chunk_size: int) -> Iterator[Chunk]:
    with _open_text(source) as handle:
        reader = _csv_reader(handle, source)
        header = next(reader)
        width = len(header)
        positions = {role: header.index(name) for role, name in columns.present().items()}
        rows: list[list[str]] = []
        numbers: list[int] = []
        malformed = record = 0
        while True:
            # A for loop over the reader, re-entered after each csv.Error (the reader goes on
            # with the next record), costs far less per row than next() in a try.
            try:
                for row in reader:
                    if not row:
                        continue  # a blank line is no record
                    if len(row) == width:
                        rows.append(row)
                        numbers.append(record)
                    else:
                        malformed += 1
                    record += 1
                    if len(rows) + malformed >= chunk_size:
                        yield Chunk(_frame(rows, numbers, positions), malformed)
                        rows, numbers, malformed = [], [], 0
                break
            except csv.Error:
                malformed, record = malformed + 1, record + 1
        if rows or malformed:
            yield Chunk(_frame(rows, numbers, positions), malformed)


def _parquet_chunks(source: Source, columns: ColumnMap, chunk_size: int) -> Iterator[Chunk]:
    present = columns.present()
    first = 0
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=chunk_size, columns=list(present.values())):
        frame = batch.to_pandas().set_axis(list(present), axis=1)
        frame.insert(0, "row", range(first, first + batch.num_rows))
        first += batch.num_rows
        yield Chunk(frame, 0)


def iter_chunks(source: Source, columns: ColumnMap, chunk_size: int) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_size`` records; a file that breaks mid-way fails naming it."""
    chunks = _parquet_chunks if source.format == "parquet" else _delimited_chunks
    try:
        yield from chunks(source, columns, chunk_size)
    except _READ_ERRORS as exc:
        raise InputError(f"{source.path}: unreadable as {source.format} ({str(exc).strip()})") from exc
