"""Argument matchers for botocore Stubber expectations."""

from __future__ import annotations


class Containing:
    """Equal to any string containing all the parts (Stubber compares expected != actual)."""

    def __init__(self, *parts: str):
        self.parts = parts

    def __eq__(self, other):
        return isinstance(other, str) and all(part in other for part in self.parts)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return f"Containing{self.parts!r}"
