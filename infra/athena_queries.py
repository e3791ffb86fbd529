"""SQL for the Athena named queries: the course's data set questions, per raw format.

Generated from ``RawFormat`` and the one label mapping, so a new format or a changed
star-to-sentiment rule changes every query consistently.
"""

from __future__ import annotations

from infra.constructs.raw_tables import RawFormat
from ml_code.common.features import EVENT_TIME, RECORD_IDENTIFIER
from ml_code.common.labels import MAX_STARS, MIN_STARS, SENTIMENTS


def sentiment_case(rating_column: str) -> str:
    """A SQL CASE mapping star ratings to sentiment names, from ml_code.common.labels."""
    whens = " ".join(
        f"WHEN {rating_column} BETWEEN {s.min_stars} AND {s.max_stars} THEN '{s.name}'" for s in SENTIMENTS
    )
    return f"CASE {whens} END"


def _labelled(fmt: RawFormat, database: str, *extra: str) -> str:
    columns = ", ".join((f"{sentiment_case(fmt.rating_column)} AS sentiment", *extra))
    return (
        f'SELECT {columns} FROM "{database}"."{fmt.table_name}" '
        f"WHERE {fmt.rating_column} BETWEEN {MIN_STARS} AND {MAX_STARS}"
    )


def raw_queries(fmt: RawFormat, database: str) -> dict[str, tuple[str, str]]:
    """name -> (description, SQL) for one raw table."""
    per_sentiment = (
        "SELECT sentiment, COUNT(*) AS reviews, "
        "ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 2) AS share_pct "
        f"FROM ({_labelled(fmt, database)}) GROUP BY sentiment ORDER BY sentiment"
    )
    per_category = (
        "SELECT product_category, sentiment, COUNT(*) AS reviews, "
        "ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY product_category), 2) AS share_pct "
        f"FROM ({_labelled(fmt, database, f'{fmt.category_column} AS product_category')}) "
        "GROUP BY product_category, sentiment ORDER BY product_category, sentiment"
    )
    text = f"trim({fmt.text_column})"
    length = (
        "SELECT sentiment, COUNT(*) AS reviews, ROUND(AVG(length(review_text)), 1) AS avg_characters, "
        "ROUND(AVG(cardinality(split(review_text, ' '))), 1) AS avg_words "
        f"FROM ({_labelled(fmt, database, f'{text} AS review_text')} AND length({text}) > 0) "
        "GROUP BY sentiment ORDER BY sentiment"
    )
    return {
        f"{fmt.table_name}-reviews-per-sentiment": ("Reviews and share of all reviews per sentiment", per_sentiment),
        f"{fmt.table_name}-reviews-per-category": (
            "Reviews and share within each product category per sentiment",
            per_category,
        ),
        f"{fmt.table_name}-review-length-per-sentiment": (
            "Average review length (characters and words) per sentiment, non-empty texts",
            length,
        ),
    }


def latest_features_query(database: str, table: str) -> str:
    """The newest non-deleted record per review id in the Feature Store offline table."""
    return (
        "SELECT * FROM ("
        f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {RECORD_IDENTIFIER} "
        f"ORDER BY {EVENT_TIME} DESC, api_invocation_time DESC, write_time DESC) AS row_rank "
        f'FROM "{database}"."{table}" WHERE NOT is_deleted'
        ") WHERE row_rank = 1"
    )
