"""A Condition step's Conditions, evaluated to one outcome with a readable explanation.

All conditions of the step must hold (AND). Types: Equals, GreaterThan,
GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo (LeftValue/RightValue), In
(QueryValue/Values), Not (Condition), Or (Conditions).
"""

from __future__ import annotations

import operator

from local_runner.errors import ExpressionError
from local_runner.expressions import Context, as_text, evaluate

COMPARISONS = {
    "Equals": (operator.eq, "=="),
    "GreaterThan": (operator.gt, ">"),
    "GreaterThanOrEqualTo": (operator.ge, ">="),
    "LessThan": (operator.lt, "<"),
    "LessThanOrEqualTo": (operator.le, "<="),
}
TYPES = (*COMPARISONS, "In", "Not", "Or")


def evaluate_conditions(conditions: list[dict], ctx: Context) -> tuple[bool, str]:
    """(all hold, explanation such as "0.71 >= 0.6 is true")."""
    results = [evaluate_condition(condition, ctx) for condition in conditions]
    return all(outcome for outcome, _ in results), " and ".join(text for _, text in results) or "no conditions"


def evaluate_condition(condition: dict, ctx: Context) -> tuple[bool, str]:
    kind = condition.get("Type")
    if kind in COMPARISONS:
        compare, symbol = COMPARISONS[kind]
        left, right = evaluate(condition.get("LeftValue"), ctx), evaluate(condition.get("RightValue"), ctx)
        outcome = _compare(compare, left, right, kind)
        return outcome, f"{as_text(left)} {symbol} {as_text(right)} is {as_text(outcome)}"
    if kind == "In":
        value, values = evaluate(condition.get("QueryValue"), ctx), evaluate(condition.get("Values") or [], ctx)
        outcome = any(_equal(value, candidate) for candidate in values)
        return outcome, f"{as_text(value)} in [{', '.join(map(as_text, values))}] is {as_text(outcome)}"
    if kind == "Not":
        outcome, text = evaluate_condition(condition.get("Condition") or {}, ctx)
        return not outcome, f"not ({text})"
    if kind == "Or":
        results = [evaluate_condition(c, ctx) for c in condition.get("Conditions") or []]
        return any(o for o, _ in results), "(" + " or ".join(t for _, t in results) + ")"
    raise ExpressionError(f"unsupported condition type {kind!r} (supported: {', '.join(TYPES)})")


def _numeric(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _equal(left, right) -> bool:
    a, b = _numeric(left), _numeric(right)
    return a == b if a is not None and b is not None else left == right


def _compare(compare, left, right, kind: str) -> bool:
    if kind == "Equals":
        return _equal(left, right)
    a, b = _numeric(left), _numeric(right)
    if a is None or b is None:
        if isinstance(left, str) and isinstance(right, str):
            return compare(left, right)
        raise ExpressionError(f"{kind}: cannot compare {left!r} with {right!r}")
    return compare(a, b)
