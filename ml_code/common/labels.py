"""The one mapping from star ratings to sentiment classes.

Everything that needs labels (processing, training's id2label, inference output, the
Athena queries) derives them from ``SENTIMENTS`` so the classes cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentiment:
    label_id: int  # the classifier's output index
    name: str  # label text returned by inference
    value: int  # -1 / 0 / +1, as the course's feature store stores it
    min_stars: int
    max_stars: int


SENTIMENTS: tuple[Sentiment, ...] = (
    Sentiment(label_id=0, name="negative", value=-1, min_stars=1, max_stars=2),
    Sentiment(label_id=1, name="neutral", value=0, min_stars=3, max_stars=3),
    Sentiment(label_id=2, name="positive", value=1, min_stars=4, max_stars=5),
)

MIN_STARS = min(s.min_stars for s in SENTIMENTS)
MAX_STARS = max(s.max_stars for s in SENTIMENTS)

ID2LABEL: dict[int, str] = {s.label_id: s.name for s in SENTIMENTS}
LABEL2ID: dict[str, int] = {s.name: s.label_id for s in SENTIMENTS}


def sentiment_for_stars(stars: int) -> Sentiment:
    """The sentiment class of a whole-star rating; ValueError outside 1..5."""
    for sentiment in SENTIMENTS:
        if sentiment.min_stars <= stars <= sentiment.max_stars:
            return sentiment
    raise ValueError(f"star rating must be a whole number from {MIN_STARS} to {MAX_STARS}, got {stars!r}")
