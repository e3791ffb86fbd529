"""Which files are input, and what each one is: CSV, TSV (plain or gzip) or Parquet.

Detection reads the first 64 KiB, so a file that is not data (binary garbage, not UTF-8,
not gzip despite its name) fails before any row is processed.

Binary or text is decided on the share of control bytes in that block (NUL and the C0
controls text never holds: not tab, line feed, carriage return, form feed or vertical tab).
Binary formats (images, archives, compressed or random bytes) hold about one in nine;
UTF-16 text one in two. A text file with a stray NUL or escape character in a review holds
a handful in 64 KiB: below the threshold, the file is read and only those rows are
rejected (``rows``: control_character).
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
_MAX_CONTROL_SHARE = 0.01  # control bytes in the sniffed head beyond which a file is binary
# C0 controls that text does not hold (tab, LF, VT, FF and CR excepted), and DEL.
CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_DROP_OTHERS = bytes(b for b in range(256) if b not in CONTROL_BYTES)


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


def control_bytes(data: bytes) -> int:
    """How many of ``data``'s bytes are control bytes (``CONTROL_BYTES``)."""
    return len(data.translate(None, _DROP_OTHERS))


def _check_text(path: Path, head: bytes) -> None:
    controls = control_bytes(head)
    header = head.split(b"\n", 1)[0]
    if controls > _MAX_CONTROL_SHARE * len(head) or control_bytes(header):
        first = next(i for i, b in enumerate(head) if b in CONTROL_BYTES)
        raise InputError(
            f"{path}: binary content ({controls} NUL or control bytes in the first {len(head)}, the first at"
            f" offset {first}), not CSV, TSV or Parquet"
        )
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
