"""Input files: format detection, chunked reading, column mapping, bad rows and bad files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from ml_code.preprocessing.columns import resolve_columns
from ml_code.preprocessing.formats import detect, find_input_files
from ml_code.preprocessing.readers import iter_chunks, read_header
from tests.conftest import SAMPLE_DATA
from tests.ml_code.preprocess_helpers import AMAZON_HEADER, amazon_row, run_job, write_csv


def _chunks(path: Path, chunk_size: int = 1000, **overrides: str):
    source = detect(path, path.parent)
    columns = resolve_columns(path, read_header(source), overrides)
    return source, columns, list(iter_chunks(source, columns, chunk_size))


def test_formats_are_detected_from_content_whatever_the_compression(tmp_path):
    rows = [amazon_row("R1", "Nice", 5)]
    tsv = write_csv(tmp_path / "a.tsv.gz", AMAZON_HEADER, rows, delimiter="\t")
    csv_plain = write_csv(tmp_path / "b.csv", ["review_body", "star_rating"], [["Nice", 5]])
    parquet = tmp_path / "c.parquet"
    pd.DataFrame({"review_body": ["Nice"], "star_rating": [5]}).to_parquet(parquet)
    assert (detect(tsv, tmp_path).format, detect(tsv, tmp_path).gzipped) == ("tsv", True)
    assert (detect(csv_plain, tmp_path).format, detect(csv_plain, tmp_path).gzipped) == ("csv", False)
    assert detect(parquet, tmp_path).format == "parquet"
    assert detect(csv_plain, tmp_path, declared="tsv").format == "tsv"  # a declared format wins


def test_input_files_are_found_recursively_and_other_files_set_aside(tmp_path):
    for name in ("x/b.csv", "a.tsv.gz", "c.parquet", "x/y/d.CSV.GZ", "_SUCCESS", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    data, others = find_input_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in data] == ["a.tsv.gz", "c.parquet", "x/b.csv", "x/y/d.CSV.GZ"]
    assert sorted(p.name for p in others) == ["_SUCCESS", "notes.txt"]


def test_the_clothing_csv_maps_its_columns_and_keeps_crlf_texts_in_one_row():
    source, columns, chunks = _chunks(SAMPLE_DATA)
    assert columns.columns == {
        "text": "Review Text",
        "rating": "Rating",
        "id": None,
        "date": None,
        "category": "Department Name",
    }
    frame = pd.concat([c.frame for c in chunks])
    assert len(frame) == 2100 and sum(c.malformed for c in chunks) == 0  # the README's row count
    assert frame["text"].str.contains("\r\n").any()  # CRLF inside quoted fields, parsed as one row
    assert frame["row"].tolist() == list(range(2100))


def test_chunks_never_exceed_the_chunk_size():
    _, _, chunks = _chunks(SAMPLE_DATA, chunk_size=500)
    assert [len(c.frame) for c in chunks] == [500, 500, 500, 500, 100]


def test_rows_with_the_wrong_field_count_or_broken_quoting_are_counted_not_fatal(tmp_path):
    body = "\n".join(
        [
            "review_body\tstar_rating",
            "fine\t5",
            "an extra\ttab\t4",  # Amazon texts with a tab: one field too many
            "too few",
            'a "quoted" text\t3',  # the TSV is unquoted: bare quotes are text
            "",  # a blank line is no record
            "last\t1",
        ]
    )
    path = tmp_path / "r.tsv"
    path.write_text(body + "\n")
    _, _, chunks = _chunks(path, chunk_size=2)
    frame = pd.concat([c.frame for c in chunks])
    assert frame["text"].tolist() == ["fine", 'a "quoted" text', "last"]
    assert frame["row"].tolist() == [0, 3, 4]
    assert sum(c.malformed for c in chunks) == 2


def test_an_unterminated_quote_costs_its_row_not_the_job(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text('review_body,star_rating\n"ok",5\n"runaway,' + "x" * (1 << 20) + "\n")
    _, _, chunks = _chunks(path)
    assert sum(len(c.frame) for c in chunks) == 1 and sum(c.malformed for c in chunks) == 1


def test_parquet_is_read_in_batches_with_nulls_and_numbers(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"review_body": ["a", None, "c"], "star_rating": [5, 4, None], "review_id": [1, 2, 3]}).to_parquet(
        path
    )
    _, _, chunks = _chunks(path, chunk_size=2)
    assert [len(c.frame) for c in chunks] == [2, 1]
    assert pd.concat([c.frame for c in chunks])["row"].tolist() == [0, 1, 2]


def test_column_overrides_win_over_known_names(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["body", "review_body", "score"], [["x", "y", 5]])
    _, columns, _ = _chunks(path, text="body", rating="score")
    assert columns.present() == {"text": "body", "rating": "score"}


# Bad input: the job exits non-zero with one line naming the file and, where it applies, the column.


def _fails(tmp_path: Path, tiny_roberta: Path, *extra: str) -> str:
    with pytest.raises(SystemExit) as exited:
        run_job(tmp_path / "in", tmp_path / "out", tiny_roberta, *extra)
    message = str(exited.value.code)
    assert message.startswith("preprocess: ") and "\n" not in message
    return message


def test_binary_garbage_fails_naming_the_file(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "reviews.csv").write_bytes(bytes(range(256)) * 64)
    message = _fails(tmp_path, tiny_roberta)
    assert "reviews.csv" in message and "binary" in message


def test_text_that_is_not_utf8_fails_naming_the_file(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "latin1.csv").write_bytes("review_body,star_rating\ncaf\u00e9,5\n".encode("latin-1"))
    assert "latin1.csv: not UTF-8" in _fails(tmp_path, tiny_roberta)


def test_a_corrupt_gzip_fails_naming_the_file(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.csv.gz").write_bytes(gzip.compress(b"review_body,star_rating\n" * 1000)[:40])
    assert "r.csv.gz" in _fails(tmp_path, tiny_roberta)


def test_a_truncated_parquet_file_fails_naming_it(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    pd.DataFrame({"review_body": ["a"] * 100, "star_rating": [5] * 100}).to_parquet(tmp_path / "whole.parquet")
    (tmp_path / "in" / "cut.parquet").write_bytes((tmp_path / "whole.parquet").read_bytes()[:200])
    assert "cut.parquet" in _fails(tmp_path, tiny_roberta)


def test_the_wrong_delimiter_fails_naming_the_file_the_column_and_the_delimiter(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "semi.csv", ["review_body;star_rating"], [["good;5"]])
    message = _fails(tmp_path, tiny_roberta)
    assert "semi.csv" in message and "--text-column" in message and "delimiter is wrong" in message and "';'" in message


def test_a_tsv_declared_as_csv_fails_with_the_delimiter_hint(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.tsv", AMAZON_HEADER, [amazon_row("R1", "good", 5)], delimiter="\t")
    message = _fails(tmp_path, tiny_roberta, "--input-format", "csv")
    assert "r.tsv" in message and "delimiter is wrong" in message


def test_a_missing_required_column_fails_naming_file_and_column(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "norating.csv", ["review_body", "stars_given"], [["good", 5]])
    message = _fails(tmp_path, tiny_roberta)
    assert "norating.csv" in message and "no rating column" in message and "--rating-column" in message


def test_a_missing_override_column_fails_naming_it(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", ["review_body", "star_rating"], [["good", 5]])
    message = _fails(tmp_path, tiny_roberta, "--text-column", "Review Text")
    assert "r.csv" in message and "'Review Text'" in message and "--text-column" in message


def test_an_empty_input_folder_fails(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "manifest.json").write_text("{}")
    assert "no input files" in _fails(tmp_path, tiny_roberta)


def test_an_empty_file_fails_naming_it(tmp_path, tiny_roberta):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "empty.csv").write_bytes(b"")
    assert "empty.csv: file is empty" in _fails(tmp_path, tiny_roberta)


def test_a_header_without_rows_fails(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "header.csv", ["review_body", "star_rating"], [])
    assert "no data rows in header.csv" in _fails(tmp_path, tiny_roberta)


def test_input_where_every_row_is_rejected_fails_with_the_reasons(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", ["review_body", "star_rating"], [["", 5], ["good", 7]])
    message = _fails(tmp_path, tiny_roberta)
    assert "all 2 rows were rejected" in message and "empty_text" in message and "invalid_rating" in message


def test_the_failure_reason_is_left_for_sagemakers_exit_message(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "norating.csv", ["review_body"], [["good"]])
    (tmp_path / "output").mkdir()
    message_file = tmp_path / "output" / "message"
    _fails(tmp_path, tiny_roberta, "--exit-message-file", str(message_file))
    assert "norating.csv" in message_file.read_text() and "rating" in message_file.read_text()


def test_resource_config_errors_name_the_file(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", ["review_body", "star_rating"], [["good", 5]])
    config = tmp_path / "resourceconfig.json"
    config.write_text('{"current_host": "algo-3", "hosts": ["algo-1", "algo-2"]}')
    assert "resourceconfig.json" in _fails(tmp_path, tiny_roberta, "--resource-config", str(config))


def test_a_tokenizer_that_cannot_load_fails_before_reading_data(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", ["review_body", "star_rating"], [["good", 5]])
    message = _fails(tmp_path, tiny_roberta, "--tokenizer", str(tmp_path / "no-tokenizer"))
    assert "--tokenizer" in message and "no-tokenizer" in message


def test_max_seq_length_beyond_the_tokenizer_fails(tmp_path, tiny_roberta):
    write_csv(tmp_path / "in" / "r.csv", ["review_body", "star_rating"], [["good", 5]])
    assert "model_max_length 512" in _fails(tmp_path, tiny_roberta, "--max-seq-length", "513")
