"""The two ways the job fails on purpose: bad input, and a Feature Store over its failure budget."""

from __future__ import annotations


class InputError(ValueError):
    """Unusable input or configuration. The message is one line naming the file and column."""


class FeatureStoreError(RuntimeError):
    """Feature Store ingestion failed beyond the allowed share of records, or cannot work at all."""
