"""A synthesized pipeline definition as a pattern, and its structural diff with a deployed one.

The synthesized ``PipelineDefinitionBody`` is JSON text cut by CloudFormation intrinsics
(``Fn::Join`` parts such as ``{"Fn::ImportValue": ...}`` or ``{"Ref": role}``, or an
``Fn::Sub``); the deployed definition holds the values CloudFormation put there. Each
intrinsic whose value is not known becomes a *hole*: inside a JSON string it matches any
text, elsewhere any JSON value. Text is compared exactly, and the same intrinsic must have
the same value everywhere it appears (the role ARN of every step, the bucket of every URI),
so a hole cannot hide a step that points at a different bucket than the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Private-use code points: valid inside JSON strings, never in a definition the SDK writes.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# Keys that name list items: Steps[Train] reads better than Steps[1], and ignores order.
IDENTITY_KEYS = ("Name", "InputName", "OutputName", "PropertyFileName", "ChannelName")
SHOW_CHARS = 160

Resolver = Callable[[dict], "str | None"]  # an intrinsic -> its known value, or None


class PatternError(ValueError):
    """The synthesized body cannot be turned into a pattern (unexpected shape)."""


@dataclass(frozen=True)
class Hole:
    key: str  # canonical JSON of the intrinsic: identical intrinsics must resolve identically
    label: str  # how messages show it, e.g. ${Ref TrainingExecutionRoleC863F521}
    in_string: bool


@dataclass
class Pattern:
    document: Any  # parsed JSON whose strings may hold hole markers
    holes: list[Hole]


def hole_label(intrinsic: dict) -> str:
    ((function, argument),) = intrinsic.items()
    if function in ("Ref", "Fn::ImportValue") and isinstance(argument, str):
        return "${" + function.removeprefix("Fn::") + " " + argument + "}"
    if function == "Fn::GetAtt":
        return "${GetAtt " + (".".join(argument) if isinstance(argument, list) else str(argument)) + "}"
    return "${" + _short(json.dumps(intrinsic, sort_keys=True), 60) + "}"


def values_resolver(values: dict[str, str]) -> Resolver:
    """Looks intrinsics up by Ref name, export name (ImportValue) or Logical.Attribute (GetAtt)."""

    def resolve(intrinsic: dict) -> str | None:
        ((function, argument),) = intrinsic.items()
        if function == "Fn::GetAtt" and isinstance(argument, list):
            argument = ".".join(map(str, argument))
        if function in ("Ref", "Fn::ImportValue", "Fn::GetAtt") and isinstance(argument, str):
            return values.get(argument)
        return None

    return resolve


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _segments(value: Any, resolve: Resolver) -> list[str | dict]:
    """Literal text and unresolved intrinsics, in order, as CloudFormation would concatenate them."""
    if isinstance(value, str):
        return [value]
    if not _is_intrinsic(value):
        raise PatternError(f"expected text or an intrinsic function in the definition body, got {_short(value)}")
    known = resolve(value)
    if known is not None:
        return [known]  # CloudFormation inserts values verbatim, as text of the JSON document
    ((function, argument),) = value.items()
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], list):
        delimiter, parts = argument
        out: list[str | dict] = []
        for index, part in enumerate(parts):
            out += ([delimiter] if index else []) + _segments(part, resolve)
        return out
    if function == "Fn::Sub":
        template, variables = (argument, {}) if isinstance(argument, str) else argument
        return _sub_segments(template, variables, resolve)
    return [value]


def _sub_segments(template: str, variables: dict, resolve: Resolver) -> list[str | dict]:
    out: list[str | dict] = []
    position = 0
    for match in _SUB_VARIABLE.finditer(template):
        out.append(template[position : match.start()])
        name = match.group(1)
        if name.startswith("!"):  # ${!Literal} is the escape for a literal ${Literal}
            out.append("${" + name[1:] + "}")
        elif name in variables:
            out += _segments(variables[name], resolve)
        else:
            intrinsic = {"Fn::GetAtt": name.split(".", 1)} if "." in name else {"Ref": name}
            out += _segments(intrinsic, resolve)
        position = match.end()
    return out + [template[position:]]


def build_pattern(body: Any, resolve: Resolver = lambda _: None) -> Pattern:
    """Parse a synthesized ``PipelineDefinitionBody`` (text or intrinsic) into a Pattern."""
    holes: list[Hole] = []
    pieces: list[str] = []
    in_string = escaped = False
    for segment in _segments(body, resolve):
        if isinstance(segment, dict):
            if escaped:
                raise PatternError(f"{hole_label(segment)} follows a backslash inside a JSON string")
            marker = f"{_OPEN}{len(holes)}{_CLOSE}"
            holes.append(Hole(json.dumps(segment, sort_keys=True), hole_label(segment), in_string))
            pieces.append(marker if in_string else f'"{marker}"')
            continue
        if _OPEN in segment or _CLOSE in segment:
            raise PatternError("the definition contains private-use characters U+E000/U+E001")
        pieces.append(segment)
        for char in segment:  # track whether the next hole sits inside a JSON string
            if escaped:
                escaped = False
            elif in_string and char == "\\":
                escaped = True
            elif char == '"':
                in_string = not in_string
    try:
        return Pattern(json.loads("".join(pieces)), holes)
    except json.JSONDecodeError as error:
        raise PatternError(f"the synthesized definition is not JSON once intrinsics are holes: {error}") from None


@dataclass(frozen=True)
class Difference:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '<definition>'}: {self.message}"


@dataclass
class _Comparison:
    holes: list[Hole]
    matches: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)  # hole key -> [(value, path)]
    differences: list[Difference] = field(default_factory=list)
    deferred: list[tuple[str, Any, str]] = field(default_factory=list)

    def show(self, value: Any) -> str:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        return _short(_MARKER.sub(lambda m: self.holes[int(m.group(1))].label, text))

    def differ(self, path: str, synthesized: Any, deployed: Any) -> None:
        message = f"synthesized {self.show(synthesized)}, deployed {self.show(deployed)}"
        self.differences.append(Difference(path, message))

    def only(self, path: str, side: str, value: Any = None) -> None:
        """``side`` is "synthesized" or "deployed": the item exists there only."""
        other = "deployed" if side == "synthesized" else "synthesized"
        shown = "" if value is None else f": {self.show(value)}"
        self.differences.append(Difference(path, f"{side} only (not {other}){shown}"))

    def bind(self, hole: Hole, value: Any, path: str) -> None:
        self.matches.setdefault(hole.key, []).append((value, path))

    def resolved(self) -> dict[str, Any]:
        """Each hole's value: the one most of its places agree on (the first one on a tie)."""
        values = {}
        for key, matches in self.matches.items():
            counts: dict[str, int] = {}
            for value, _ in matches:
                canonical = json.dumps(value, sort_keys=True)
                counts[canonical] = counts.get(canonical, 0) + 1
            values[key] = json.loads(max(counts, key=counts.__getitem__))
        return values

    def check_holes_agree(self) -> None:
        """One intrinsic has one value: a place whose value differs from the others is drift."""
        labels = {hole.key: hole.label for hole in self.holes}
        for key, value in self.resolved().items():
            agreeing = [path for v, path in self.matches[key] if _same_value(v, value)]
            for other, path in self.matches[key]:
                if not _same_value(other, value):
                    where = f"{len(agreeing)} other place(s), e.g. {agreeing[0] or '<definition>'}"
                    message = f"{labels[key]} is {self.show(other)} here but {self.show(value)} at {where}"
                    self.differences.append(Difference(path, message))

    def compare(self, synthesized: Any, deployed: Any, path: str = "") -> None:
        if isinstance(synthesized, str) and _MARKER.search(synthesized):
            self._compare_pattern(synthesized, deployed, path)
        elif isinstance(synthesized, dict) and isinstance(deployed, dict):
            for key in sorted(set(synthesized) | set(deployed)):
                child = f"{path}.{key}" if path else key
                if key not in deployed:
                    self.only(child, "synthesized", synthesized[key])
                elif key not in synthesized:
                    self.only(child, "deployed", deployed[key])
                else:
                    self.compare(synthesized[key], deployed[key], child)
        elif isinstance(synthesized, list) and isinstance(deployed, list):
            self._compare_lists(synthesized, deployed, path)
        elif not _same_value(synthesized, deployed):
            self.differ(path, synthesized, deployed)

    def _compare_pattern(self, synthesized: str, deployed: Any, path: str, defer: bool = True) -> None:
        whole = _MARKER.fullmatch(synthesized)
        if whole and not self.holes[int(whole.group(1))].in_string:
            self.bind(self.holes[int(whole.group(1))], deployed, path)  # a hole for a whole JSON value
            return
        if not isinstance(deployed, str):
            return self.differ(path, synthesized, deployed)
        parts = _MARKER.split(synthesized)  # literal, hole index, literal, hole index, ..., literal
        adjacent = [self.holes[int(parts[i])].key for i in range(3, len(parts), 2) if parts[i - 1] == ""]
        if defer and any(key not in self.matches for key in adjacent):
            # Two holes with no text between them split a text in many ways: wait until
            # other places have matched them.
            self.deferred.append((synthesized, deployed, path))
            return None
        # Holes already matched elsewhere stand for that value first: it settles how two
        # adjacent holes split a text. Failing that, all holes free: if that matches, the text
        # is right and check_holes_agree names the hole whose value differs from the others.
        for use_bound in (True, False):
            match = re.fullmatch(self._regex(parts, use_bound), deployed, flags=re.DOTALL)
            if match:
                for number, value in match.groupdict().items():
                    self.bind(self.holes[int(number[1:])], value, path)
                return None
        return self.differ(path, synthesized, deployed)

    def _regex(self, parts: list[str], use_bound: bool) -> str:
        regex = ""
        groups: dict[str, str] = {}  # hole key -> its group in this text
        for index, part in enumerate(parts):
            if index % 2 == 0:  # text between holes
                regex += re.escape(part)
                continue
            key = self.holes[int(part)].key
            if use_bound and key in self.matches:
                regex += re.escape(str(self.matches[key][0][0]))
            elif key in groups:
                regex += f"(?P={groups[key]})"  # one intrinsic twice in one text: the same value twice
            else:
                groups[key] = f"h{part}"
                regex += f"(?P<h{part}>.*)"
        return regex

    def _compare_lists(self, synthesized: list, deployed: list, path: str) -> None:
        key = _identity_key(synthesized, deployed)
        if key is None:
            scalars = not any(isinstance(v, (dict, list)) for v in synthesized + deployed)
            if len(synthesized) != len(deployed) and scalars:
                return self.differ(path, synthesized, deployed)  # e.g. ContainerArguments: the whole list reads best
            for index in range(max(len(synthesized), len(deployed))):
                child = f"{path}[{index}]"
                if index >= len(deployed):
                    self.only(child, "synthesized", synthesized[index])
                elif index >= len(synthesized):
                    self.only(child, "deployed", deployed[index])
                else:
                    self.compare(synthesized[index], deployed[index], child)
            return
        by_name = {item[key]: item for item in deployed}
        for item in synthesized:
            child = f"{path}[{item[key]}]"
            if item[key] in by_name:
                self.compare(item, by_name.pop(item[key]), child)
            else:
                self.only(child, "synthesized")  # a whole step: its name says enough
        for name, item in by_name.items():
            self.only(f"{path}[{name}]", "deployed", item)


def _same_value(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1 (bool is an int in Python)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def _identity_key(*lists: list) -> str | None:
    """The key naming every item of both lists, uniquely and without holes, if there is one."""
    everything = [item for items in lists for item in items]
    if not everything or not all(isinstance(item, dict) for item in everything):
        return None
    for key in IDENTITY_KEYS:
        names = [item.get(key) for item in everything]
        if all(isinstance(name, str) and not _MARKER.search(name) for name in names) and all(
            len({item[key] for item in items}) == len(items) for items in lists
        ):
            return key
    return None


def compare(pattern: Pattern, deployed: Any) -> tuple[list[Difference], dict[str, Any]]:
    """Differences between the pattern and a deployed definition, and what each hole matched."""
    comparison = _Comparison(pattern.holes)
    comparison.compare(pattern.document, deployed)
    for synthesized, value, path in comparison.deferred:
        comparison._compare_pattern(synthesized, value, path, defer=False)
    comparison.check_holes_agree()
    labels = {hole.key: hole.label for hole in pattern.holes}
    return comparison.differences, {labels[key]: value for key, value in comparison.resolved().items()}


def _short(value: Any, limit: int = SHOW_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
