"""The saved Athena queries are valid Trino SQL and give the right answers on real data.

Athena is not reachable here; sqlglot parses each query as Trino (Athena engine 3) and
translates it for DuckDB, which runs it over the course's review file loaded into a table
with the Glue column names. The expected figures come from ../shared/data/README.md.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from statistics import mean

import duckdb
import pytest
import sqlglot

from infra.athena_queries import latest_features_query, raw_queries
from infra.constructs.raw_tables import AMAZON_REVIEWS_TSV, RAW_FORMATS, WOMENS_CLOTHING_CSV
from ml_code.common.labels import sentiment_for_stars

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "womens_clothing_ecommerce_reviews.csv.gz"
DATABASE = "roberta_sentiment_dev"


def _run(con: duckdb.DuckDBPyConnection, trino_sql: str) -> list[tuple]:
    (duck_sql,) = sqlglot.transpile(trino_sql, read="trino", write="duckdb")
    return con.execute(duck_sql).fetchall()


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"CREATE SCHEMA {DATABASE}")
    return con


@pytest.mark.parametrize("fmt", RAW_FORMATS, ids=lambda f: f.table_name)
def test_every_query_parses_as_trino(fmt):
    queries = [sql for _, sql in raw_queries(fmt, DATABASE).values()] + [latest_features_query(DATABASE, "reviews")]
    for sql in queries:
        # parse_one raises ParseError on invalid SQL; each query is one SELECT.
        assert isinstance(sqlglot.parse_one(sql, read="trino"), sqlglot.exp.Select)


@pytest.fixture(scope="module")
def clothing():
    if not DATA.exists():
        pytest.skip(f"real data set not found at {DATA} (it ships in ../shared/data, not in the repo)")
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    con = _connection()
    types = {name: "INTEGER" if kind == "int" else "VARCHAR" for name, kind in WOMENS_CLOTHING_CSV.columns}
    # DuckDB's CSV reader keeps line breaks inside quoted text, as the processing step will.
    con.execute(
        f"CREATE TABLE {DATABASE}.{WOMENS_CLOTHING_CSV.table_name} AS "
        "SELECT * FROM read_csv(?, header = true, quote = '\"', escape = '\"', columns = ?)",
        [str(DATA), types],
    )
    return con, rows


def test_reviews_per_sentiment_match_the_data_sets_documented_counts(clothing):
    con, _ = clothing
    sql = raw_queries(WOMENS_CLOTHING_CSV, DATABASE)["womens_clothing_reviews_csv-reviews-per-sentiment"][1]
    result = {sentiment: (reviews, share) for sentiment, reviews, share in _run(con, sql)}
    assert {k: v[0] for k, v in result.items()} == {"negative": 2407, "neutral": 2871, "positive": 18208}
    assert result["positive"][1] == pytest.approx(100 * 18208 / 23486, abs=0.01)


def test_reviews_per_category_cover_every_row_and_shares_sum_to_100_per_category(clothing):
    con, rows = clothing
    sql = raw_queries(WOMENS_CLOTHING_CSV, DATABASE)["womens_clothing_reviews_csv-reviews-per-category"][1]
    result = _run(con, sql)
    assert sum(reviews for _, _, reviews, _ in result) == len(rows) == 23486
    by_category: dict = {}
    for category, _, _reviews, share in result:
        by_category.setdefault(category, []).append(share)
    assert all(sum(shares) == pytest.approx(100, abs=0.05) for shares in by_category.values())
    assert {"Tops", "Dresses", "Bottoms", "Intimate", "Jackets", "Trend", None} == set(by_category)


def test_average_review_length_per_sentiment_matches_python_over_non_empty_texts(clothing):
    con, rows = clothing
    sql = raw_queries(WOMENS_CLOTHING_CSV, DATABASE)["womens_clothing_reviews_csv-review-length-per-sentiment"][1]
    result = {sentiment: (reviews, chars) for sentiment, reviews, chars, _ in _run(con, sql)}
    texts: dict[str, list[str]] = {}
    for row in rows:
        if row[4].strip():
            texts.setdefault(sentiment_for_stars(int(row[5])).name, []).append(row[4].strip())
    assert sum(len(t) for t in texts.values()) == 23486 - 845  # README: 845 empty texts
    for name, values in texts.items():
        assert result[name][0] == len(values)
        assert result[name][1] == pytest.approx(mean(len(t) for t in values), abs=0.05)


def test_amazon_tsv_queries_label_by_star_rating_and_skip_invalid_ratings():
    con = _connection()
    con.execute(
        f"CREATE TABLE {DATABASE}.{AMAZON_REVIEWS_TSV.table_name} (star_rating INTEGER, review_body VARCHAR, product_category VARCHAR)"
    )
    rows = [
        (1, "bad", "Books"),
        (3, "ok", "Books"),
        (5, "great read", "Books"),
        (4, "fine", "Toys"),
        (None, "x", "Toys"),
        (9, "y", "Toys"),
    ]
    con.executemany(f"INSERT INTO {DATABASE}.{AMAZON_REVIEWS_TSV.table_name} VALUES (?, ?, ?)", rows)
    queries = raw_queries(AMAZON_REVIEWS_TSV, DATABASE)
    per_sentiment = _run(con, queries["amazon_reviews_tsv-reviews-per-sentiment"][1])
    assert [(s, n) for s, n, _ in per_sentiment] == [("negative", 1), ("neutral", 1), ("positive", 2)]
    per_category = _run(con, queries["amazon_reviews_tsv-reviews-per-category"][1])
    assert ("Toys", "positive", 1, 100.0) in per_category
    length = {s: w for s, _, _, w in _run(con, queries["amazon_reviews_tsv-review-length-per-sentiment"][1])}
    assert length["positive"] == 1.5  # "great read" (2 words) and "fine" (1)


def test_latest_features_query_keeps_the_newest_live_record_per_review():
    con = _connection()
    con.execute(
        f"CREATE TABLE {DATABASE}.reviews (review_id VARCHAR, event_time DOUBLE, label_id INTEGER, "
        "api_invocation_time TIMESTAMP, write_time TIMESTAMP, is_deleted BOOLEAN)"
    )
    t = "2026-11-01 00:00:00"
    rows = [
        ("a", 1.0, 0, t, t, False),
        ("a", 2.0, 2, t, t, False),  # newer event wins
        ("b", 5.0, 1, t, t, False),
        ("b", 9.0, 0, t, t, True),  # deleted versions are ignored
        ("c", 3.0, 1, t, t, False),
    ]
    con.executemany(f"INSERT INTO {DATABASE}.reviews VALUES (?, ?, ?, ?, ?, ?)", rows)
    result = _run(con, latest_features_query(DATABASE, "reviews"))
    assert sorted((r[0], r[2]) for r in result) == [("a", 2), ("b", 1), ("c", 1)]
