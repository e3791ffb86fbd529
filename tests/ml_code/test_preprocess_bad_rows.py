"""Bad rows cost their row, bad files their file (with --quarantine-unreadable), duplicates their copy."""

from __future__ import annotations

import gzip
import random
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from ml_code.preprocessing.dedup import SeenIds
from ml_code.preprocessing.errors import InputError
from ml_code.preprocessing.formats import detect
from tests.ml_code.preprocess_helpers import AMAZON_HEADER, amazon_row, read_all, run_job, write_csv

HEADER = ["review_body", "star_rating"]


def _rows(n: int, prefix: str = "review") -> list[list[object]]:
    return [[f"{prefix} {i}: fits well, lovely fabric", 1 + i % 5] for i in range(n)]


def _fails(input_dir: Path, out: Path, tokenizer: Path, *extra: str) -> str:
    with pytest.raises(SystemExit) as exited:
        run_job(input_dir, out, tokenizer, *extra)
    message = str(exited.value.code)
    assert message.startswith("preprocess: ") and "\n" not in message and "Traceback" not in message
    return message


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = bytes(random.Random(0).randrange(256) for _ in range(64 * (1 + 64 * 3)))
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


BINARIES = {
    "random.csv": random.Random(1).randbytes(100_000),
    "image.csv": _png(),
    "gzip-of-binary.csv": gzip.compress(random.Random(2).randbytes(100_000), mtime=0),  # gzip bytes, .csv name
    "utf16.csv": "review_body,star_rating\nnice,5\n".encode("utf-16"),
}


def test_a_nul_or_control_character_in_one_review_rejects_that_row_and_keeps_every_other(tmp_path, tiny_roberta):
    path = write_csv(tmp_path / "in" / "reviews.csv", HEADER, _rows(40))
    data = path.read_bytes()
    data += b'"a NUL\x00 inside a review",5\n"an escape \x1b[31m code",4\n"bell\x07",3\n'
    data += b"".join(b"%d: ok again,%d\n" % (i, 1 + i % 5) for i in range(20))
    path.write_bytes(data)
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--no-balance")
    assert report["rows"]["read"] == 63 and report["rows"]["kept"] == 60 == report["rows"]["written"]
    assert report["rejected_by_reason"]["control_character"] == 3 == report["rows"]["rejected"]
    texts = {t for table in read_all(tmp_path / "out").values() for t in table["review_body"].to_pylist()}
    assert not any("\x00" in t or "\x1b" in t for t in texts) and "19: ok again" in texts


def test_a_nul_in_a_review_beyond_the_sniffed_block_is_a_rejected_row_too(tmp_path, tiny_roberta):
    path = write_csv(tmp_path / "in" / "big.csv.gz", HEADER, [*_rows(3000), ["late\x00nul", 5], *_rows(5, "tail")])
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--no-balance")
    assert len(gzip.decompress(path.read_bytes())) > 64 * 1024
    assert report["rejected_by_reason"]["control_character"] == 1 and report["rows"]["kept"] == 3005


def test_a_few_control_bytes_are_text_many_are_binary(tmp_path):
    text = write_csv(tmp_path / "text.csv", HEADER, [*_rows(20), ["x\x00y", 5], ["\x1b", 4]])
    assert detect(text, tmp_path).format == "csv"
    header_nul = tmp_path / "header.csv"
    header_nul.write_bytes(b"review_body\x00,star_rating\n" + b"nice,5\n" * 100)
    with pytest.raises(InputError, match="binary content"):
        detect(header_nul, tmp_path)


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_a_binary_file_still_fails_with_its_message(tmp_path, tiny_roberta, name):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / name).write_bytes(BINARIES[name])
    message = _fails(tmp_path / "in", tmp_path / "out", tiny_roberta)
    assert name in message and "binary content" in message and "not CSV, TSV or Parquet" in message


def test_exact_duplicates_are_kept_once_and_counted(tmp_path, tiny_roberta):
    rows = [amazon_row(f"R{i}", f"review {i}", 1 + i % 5) for i in range(10)]
    write_csv(tmp_path / "in" / "a.tsv", AMAZON_HEADER, [*rows, rows[3], rows[3]], delimiter="\t")
    write_csv(tmp_path / "in" / "b.tsv", AMAZON_HEADER, [rows[0], amazon_row("R99", "new", 5)], delimiter="\t")
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--no-balance", "--chunk-size", "4")
    assert report["duplicates"]["rows"] == 3 == report["rejected_by_reason"]["duplicate_id"]
    assert "this instance" in report["duplicates"]["scope"]
    ids = [i for table in read_all(tmp_path / "out").values() for i in table["review_id"].to_pylist()]
    assert sorted(ids) == sorted([f"R{i}" for i in range(10)] + ["R99"])
    assert report["rows"]["read"] == 14 == report["rows"]["written"] + report["rows"]["rejected"]


def test_files_without_ids_are_not_duplicates_of_each_other(tmp_path, tiny_roberta):
    for name in ("a.csv", "copy-of-a.csv"):
        write_csv(tmp_path / "in" / name, HEADER, _rows(10))
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--no-balance")
    assert report["duplicates"]["rows"] == 0 and report["rows"]["written"] == 20


def test_seen_ids_match_a_set_and_hold_one_key_per_distinct_id():
    rng = np.random.default_rng(0)
    seen, reference = SeenIds(), set()
    for _ in range(300):
        keys = rng.integers(0, 20_000, size=rng.integers(0, 200), dtype=np.uint64)
        expected = []
        for key in keys.tolist():
            expected.append(key not in reference)
            reference.add(key)
        assert seen.first_seen(keys).tolist() == expected
    assert seen.size == len(reference)
    assert sum(len(run) for run in seen._runs) == len(reference) and len(seen._runs) <= 16


def test_quarantine_skips_and_lists_unreadable_files_and_goes_on(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "good.csv", HEADER, _rows(30))
    (tmp_path / "in" / "binary.csv").write_bytes(BINARIES["random.csv"])
    (tmp_path / "in" / "latin1.csv").write_bytes("review_body,star_rating\ncaf\u00e9,5\n".encode("latin-1"))
    (tmp_path / "in" / "corrupt.csv.gz").write_bytes(gzip.compress(b"review_body,star_rating\n" * 1000)[:40])
    write_csv(tmp_path / "in" / "norating.csv", ["review_body", "stars_given"], [["good", 5]])
    (tmp_path / "in" / "_SUCCESS").write_bytes(b"")
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--no-balance", "--quarantine-unreadable")
    skipped = {s["path"]: s for s in report["skipped_files"]}
    assert set(skipped) == {"binary.csv", "latin1.csv", "corrupt.csv.gz", "norating.csv", "_SUCCESS"}
    assert "binary content" in skipped["binary.csv"]["reason"] and skipped["binary.csv"]["quarantined"]
    assert "not UTF-8" in skipped["latin1.csv"]["reason"]
    assert "gzip" in skipped["corrupt.csv.gz"]["reason"]
    assert "no rating column" in skipped["norating.csv"]["reason"]
    assert not skipped["_SUCCESS"]["quarantined"]
    assert [f["path"] for f in report["input_files"]] == ["good.csv"] and report["rows"]["written"] == 30


def test_without_quarantine_an_unreadable_file_fails_the_job(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "good.csv", HEADER, _rows(30))
    (tmp_path / "in" / "binary.csv").write_bytes(BINARIES["random.csv"])
    assert "binary.csv: binary content" in _fails(tmp_path / "in", tmp_path / "out", tiny_roberta)


def test_quarantine_of_every_file_fails_with_one_line(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    for name in ("a.csv", "b.csv"):
        (tmp_path / "in" / name).write_bytes(BINARIES["random.csv"])
    message = _fails(tmp_path / "in", tmp_path / "out", tiny_roberta, "--quarantine-unreadable")
    assert "every input file is unreadable: all 2 quarantined" in message


def test_quarantine_of_a_file_that_breaks_mid_way_keeps_the_rows_before_the_break(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "good.csv", HEADER, _rows(30))
    rows = [[f"{i} " + random.Random(i).randbytes(60).hex(), 1 + i % 5] for i in range(3000)]
    path = write_csv(tmp_path / "in" / "cut.csv.gz", HEADER, rows)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) * 3 // 4])
    assert "cut.csv.gz" in _fails(tmp_path / "in", tmp_path / "out-strict", tiny_roberta, "--no-balance")
    extra = ("--no-balance", "--quarantine-unreadable", "--chunk-size", "500")
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, *extra)
    [skipped] = report["skipped_files"]  # rows_read: the whole chunks read before the break
    assert skipped["path"] == "cut.csv.gz" and skipped["quarantined"] and 0 < skipped["rows_read"] < 3000
    assert report["rows"]["read"] == 30 + skipped["rows_read"] == report["rows"]["written"]


def test_a_missing_work_dir_is_created(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", HEADER, _rows(30))
    work = tmp_path / "scratch" / "deeper"
    report = run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, "--work-dir", str(work))
    assert work.is_dir() and report["rows"]["written"] > 0


def test_a_work_dir_that_cannot_be_created_fails_with_one_line(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", HEADER, _rows(30))
    (tmp_path / "a-file").write_text("")
    message = _fails(tmp_path / "in", tmp_path / "out", tiny_roberta, "--work-dir", str(tmp_path / "a-file" / "w"))
    assert "--work-dir" in message and "a-file" in message
