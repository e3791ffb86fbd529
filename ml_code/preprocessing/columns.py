"""Which source column holds the text, rating, id, date and product category.

Each role has an override argument and, by default, a list of known names: the Amazon
Customer Reviews TSV's and the Women's Clothing CSV's. Text and rating are required; id,
date and category are derived or defaulted when the source has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ml_code.preprocessing.errors import InputError


@dataclass(frozen=True)
class Role:
    name: str
    option: str
    candidates: tuple[str, ...]
    when_missing: str  # what the job does when the source has no such column

    @property
    def required(self) -> bool:
        return not self.when_missing


ROLES: tuple[Role, ...] = (
    Role("text", "--text-column", ("review_body", "Review Text", "review_text", "text"), ""),
    Role("rating", "--rating-column", ("star_rating", "Rating", "rating", "stars"), ""),
    Role("id", "--id-column", ("review_id",), "a hash of the file's path and row"),
    Role("date", "--date-column", ("review_date",), "--event-time"),
    Role("category", "--category-column", ("product_category", "Department Name", "category"), "empty"),
)


@dataclass(frozen=True)
class ColumnMap:
    """Source column per role name; None when the source has none for an optional role."""

    columns: dict[str, str | None]

    def present(self) -> dict[str, str]:
        return {role: column for role, column in self.columns.items() if column is not None}


def _delimiter_hint(header: list[str]) -> str:
    if len(header) != 1:
        return ""
    found = [d for d in (";", "|", "\t", ",") if d in header[0]]
    return f"; the header is one column, so the delimiter is wrong (it contains {found[0]!r})" if found else ""


def _resolve(path: Path, header: list[str], role: Role, override: str) -> str | None:
    if override:
        if override not in header:
            raise InputError(
                f"{path}: column {override!r} ({role.option}) not found in header {header[:20]}"
                f"{_delimiter_hint(header)}"
            )
        return override
    found = next((c for c in role.candidates if c in header), None)
    if found is None and role.required:
        raise InputError(
            f"{path}: no {role.name} column ({role.option}; looked for {', '.join(map(repr, role.candidates))})"
            f" in header {header[:20]}{_delimiter_hint(header)}"
        )
    return found


def resolve_columns(path: Path, header: list[str], overrides: dict[str, str]) -> ColumnMap:
    """Map every role to a header column, failing on the first required one that is missing."""
    return ColumnMap({role.name: _resolve(path, header, role, overrides.get(role.name, "")) for role in ROLES})
