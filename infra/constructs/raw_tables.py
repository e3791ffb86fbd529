"""Glue tables over raw reviews, in both formats users bring.

Each format is a ``RawFormat``: its columns, SerDe, and which columns hold the text,
rating and product category, so the Athena queries are generated rather than written
twice. Tables are partitioned by ``dt`` (drop date): data lands under
``s3://<raw>/<prefix>/dt=YYYY-MM-DD/`` and the crawler registers new partitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

PARTITION_KEY = "dt"
_TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"  # reads .gz transparently
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


@dataclass(frozen=True)
class RawFormat:
    table_name: str
    s3_prefix: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (name, Glue type), in file order
    serde: str
    serde_parameters: dict[str, str]
    text_column: str
    rating_column: str
    category_column: str


AMAZON_REVIEWS_TSV = RawFormat(
    table_name="amazon_reviews_tsv",
    s3_prefix="amazon-customer-reviews",
    description="Amazon Customer Reviews data set, tab-separated with a header row (plain or .gz)",
    columns=(
        ("marketplace", "string"),
        ("customer_id", "string"),
        ("review_id", "string"),
        ("product_id", "string"),
        ("product_parent", "string"),
        ("product_title", "string"),
        ("product_category", "string"),
        ("star_rating", "int"),
        ("helpful_votes", "int"),
        ("total_votes", "int"),
        ("vine", "string"),
        ("verified_purchase", "string"),
        ("review_headline", "string"),
        ("review_body", "string"),
        ("review_date", "date"),
    ),
    # The TSV has no quoting: quotes are literal text, so LazySimpleSerDe and not OpenCSV.
    serde="org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
    serde_parameters={"field.delim": "\t", "serialization.format": "\t"},
    text_column="review_body",
    rating_column="star_rating",
    category_column="product_category",
)

WOMENS_CLOTHING_CSV = RawFormat(
    table_name="womens_clothing_reviews_csv",
    s3_prefix="womens-clothing-reviews",
    description=(
        "Women's Clothing E-Commerce Reviews, comma-separated, double-quote quoting, header row. "
        "Athena's text reader splits rows at line breaks inside quoted text (2,024 of the "
        "23,486 course rows): use the processed splits for exact counts."
    ),
    columns=(
        ("row_index", "int"),
        ("clothing_id", "int"),
        ("age", "int"),
        ("title", "string"),
        ("review_text", "string"),
        ("rating", "int"),
        ("recommended_ind", "int"),
        ("positive_feedback_count", "int"),
        ("division_name", "string"),
        ("department_name", "string"),
        ("class_name", "string"),
    ),
    # OpenCSVSerde understands quoted fields with commas and doubled quotes.
    serde="org.apache.hadoop.hive.serde2.OpenCSVSerde",
    serde_parameters={"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"},
    text_column="review_text",
    rating_column="rating",
    category_column="department_name",
)

RAW_FORMATS: tuple[RawFormat, ...] = (AMAZON_REVIEWS_TSV, WOMENS_CLOTHING_CSV)


class RawReviewTables(Construct):
    """One external Glue table per ``RawFormat`` in ``database_name``, over the raw bucket."""

    def __init__(self, scope: Construct, construct_id: str, *, database_name: str, bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, glue.CfnTable] = {}
        for fmt in RAW_FORMATS:
            self.tables[fmt.table_name] = glue.CfnTable(
                self,
                fmt.table_name,
                catalog_id=bucket.stack.account,
                database_name=database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=fmt.table_name,
                    description=fmt.description,
                    table_type="EXTERNAL_TABLE",
                    parameters={"classification": "csv", "skip.header.line.count": "1", "has_encrypted_data": "true"},
                    partition_keys=[glue.CfnTable.ColumnProperty(name=PARTITION_KEY, type="string")],
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        location=bucket.s3_url_for_object(f"{fmt.s3_prefix}/"),
                        input_format=_TEXT_INPUT,
                        output_format=_TEXT_OUTPUT,
                        columns=[glue.CfnTable.ColumnProperty(name=n, type=t) for n, t in fmt.columns],
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library=fmt.serde, parameters=fmt.serde_parameters
                        ),
                    ),
                ),
            )
