"""Split folders in the preprocessing contract's format, written directly for tests.

Training and evaluation must not depend on the preprocessing script's progress: these
helpers tokenize review texts with the test tokenizer and write Parquet part files exactly
as ``ml_code.common.splits`` describes (columns = FEATURE_NAMES, unpadded list<int32> ids).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from ml_code.common.features import FEATURE_NAMES
from ml_code.common.labels import sentiment_for_stars
from ml_code.common.splits import SPLITS, part_file_name


def _schema():
    import pyarrow as pa

    types = {
        "event_time": pa.float64(),
        "sentiment": pa.int64(),
        "label_id": pa.int64(),
        "input_ids": pa.list_(pa.int32()),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in FEATURE_NAMES])


def reviews(csv_path: Path) -> pd.DataFrame:
    """(text, stars) of the rows that have a review text, in file order."""
    frame = pd.read_csv(csv_path, index_col=0)
    frame = frame[frame["Review Text"].fillna("").str.strip() != ""]
    return pd.DataFrame({"text": frame["Review Text"].str.strip(), "stars": frame["Rating"].astype(int)})


def write_split(folder: Path, texts: list[str], stars: list[int], tokenizer, max_length: int, parts: int = 2) -> Path:
    """One split folder with ``parts`` Parquet files, as N processing instances would write it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    ids = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    sentiments = [sentiment_for_stars(s) for s in stars]
    columns = {
        "review_id": [hashlib.sha1(t.encode()).hexdigest()[:16] for t in texts],
        "event_time": [0.0] * len(texts),
        "sentiment": [s.value for s in sentiments],
        "label_id": [s.label_id for s in sentiments],
        "input_ids": ids,
        "review_body": list(texts),
        "product_category": ["Dresses"] * len(texts),
        "split_type": [folder.name] * len(texts),
    }
    table = pa.table(columns, schema=_schema())
    for index, chunk in enumerate(np.array_split(np.arange(len(texts)), parts)):
        pq.write_table(table.take(chunk), folder / part_file_name("algo-1", index))
    return folder


def write_splits(
    csv_path: Path,
    out: Path,
    tokenizer,
    max_length: int = 128,
    fractions=(0.8, 0.1, 0.1),
    limit: int | None = None,
    seed: int = 0,
) -> dict[str, Path]:
    """train/validation/test folders from a review CSV, shuffled with ``seed``, optionally the first ``limit`` rows."""
    data = reviews(csv_path).sample(frac=1.0, random_state=seed)
    if limit:
        data = data.head(limit)
    bounds = np.cumsum([0, *(round(f * len(data)) for f in fractions[:-1]), len(data)])
    bounds[-1] = len(data)
    folders = {}
    for split, start, end in zip(SPLITS, bounds[:-1], bounds[1:], strict=True):
        chunk = data.iloc[start:end]
        folders[split] = write_split(
            out / split, chunk["text"].tolist(), chunk["stars"].tolist(), tokenizer, max_length
        )
    return folders
