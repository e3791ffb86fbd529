"""Nested JSON reports as flat MLflow metric names."""

from __future__ import annotations

from typing import Any


def flat_numbers(document: Any, skip: tuple[str, ...] = ()) -> dict[str, float]:
    """Every number in ``document`` by its dotted path; ``{"value": x, ...}`` leaves are named
    by their parent (the model registry's form, whose standard deviations are left out);
    keys in ``skip`` are left out with what they hold."""
    found: dict[str, float] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            if "value" in node and _is_number(node["value"]):
                found[".".join(path)] = float(node["value"])
                return
            for key, child in node.items():
                if str(key) not in skip:
                    walk(child, (*path, str(key)))
        elif _is_number(node) and path:
            found[".".join(path)] = float(node)

    walk(document, ())
    return found


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
