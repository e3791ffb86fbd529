"""Which files are input, and what each one is: CSV, TSV (plain or gzip) or Parquet.

Detection reads the first 64 KiB, so a file that is not data (binary garbage, not UTF-8,
not gzip despite its name) fails before any row is processed.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from ml_code.preprocessing.errors import InputError

FORMATS = ("auto", "csv", "tsv", "parquet")
SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_MAX_BAD_SHARE = 0.01  # undecodable characters in the sniffed head beyond which a file is not UTF-8


@dataclass(frozen=True)
class Source:
    path: Path
    relative: str  # path below the input folder: stable across sharded and single runs
    format: str  # csv, tsv or parquet
    gzipped: bool


def find_input_files(input_dir: Path) -> tuple[list[Path], list[Path]]:
    """(data files, other files) below ``input_dir``, sorted so every run sees the same order."""
    if not input_dir.is_dir():
        raise InputError(f"{input_dir}: input folder not found (--input-dir)")
    files = sorted(p for p in input_dir.rglob("*") if p.is_file())
    data = [p for p in files if p.name.lower().endswith(SUFFIXES)]
    return data, [p for p in files if not p.name.lower().endswith(SUFFIXES)]


def _head(path: Path) -> tuple[bytes, bool]:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head.startswith(_GZIP_MAGIC):
        return head, False
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(_SNIFF_BYTES), True
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: not a readable gzip file ({exc})") from exc


def _check_text(path: Path, head: bytes) -> None:
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{path}: binary content (NUL byte at offset {nul}), not CSV, TSV or Parquet")
    # Incremental: a multi-byte character cut by the 64 KiB window is not an error. A few
    # bad bytes only cost their rows (rejected as invalid_utf8); many mean another encoding.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    bad = text.count("\ufffd")
    if bad > _MAX_BAD_SHARE * len(text) or "\ufffd" in text.split("\n", 1)[0]:
        raise InputError(f"{path}: not UTF-8 text ({bad} undecodable bytes in the first {len(head)})")


def _delimited_format(head: bytes) -> str:
    header = head.split(b"\n", 1)[0]
    # A wrong delimiter is caught when the header's columns are mapped, with a clearer message.
    return "tsv" if header.count(b"\t") > header.count(b",") else "csv"


def detect(path: Path, input_dir: Path, declared: str = "auto") -> Source:
    """The file's format: ``declared`` unless "auto", else from its content."""
    head, gzipped = _head(path)
    if not head:
        raise InputError(f"{path}: file is empty")
    if head.startswith(_PARQUET_MAGIC):
        fmt = "parquet"
    else:
        _check_text(path, head)
        fmt = _delimited_format(head)
    return Source(path, path.relative_to(input_dir).as_posix(), fmt if declared == "auto" else declared, gzipped)
