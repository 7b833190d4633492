"""Read EARG text safely into plain data plus a map from JSON path to source position.

Nothing here raises on bad input: problems become E100 diagnostics.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..diagnostics import MAX_DIAGNOSTICS, Diagnostic
from ..values import NUMBER_LIMIT, STRING_LIMIT, in_range

__all__ = ["Marks", "Path_", "format_path", "plain_problems", "read_text", "show"]

Path_ = tuple[Any, ...]
_Pos = tuple[int, int, int, int]  # line, column, end_line, end_column (1-based)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 64


@dataclass
class Marks:
    """Where each value (and each mapping key) of a document was written."""

    values: dict[Path_, _Pos] = field(default_factory=dict)
    keys: dict[Path_, _Pos] = field(default_factory=dict)

    def value(self, path: Path_) -> _Pos | None:
        """Position of the value at ``path``, or of its nearest written ancestor."""
        path = tuple(path)
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path)

    def key(self, path: Path_) -> _Pos | None:
        """Position of the key naming ``path`` (its value's position as a fallback)."""
        return self.keys.get(tuple(path)) or self.value(path)


def _pos(node: yaml.Node) -> _Pos:
    s, e = node.start_mark, node.end_mark
    return (s.line + 1, s.column + 1, e.line + 1, e.column + 1)


_PLAIN_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
MAX_NUMBER_CHARS = 40  # a number written longer than this is past any range EARG allows


def _odd_node(node: yaml.Node, resolver: Any) -> str | None:
    """Why a node cannot be read as plain EARG data (an explicit tag, a number too long
    to convert safely), or None."""
    if isinstance(node, yaml.ScalarNode):
        plain = not node.style  # None (pure Python loader) or "" (libyaml) for a plain scalar
        implicit = resolver.resolve(yaml.ScalarNode, node.value, (plain, not plain))
        if node.tag != implicit:
            return "tags are not allowed in EARG"
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
            return f"a number written with {len(node.value):,} characters is out of range"
        return None
    if node.tag != _PLAIN_TAGS.get(type(node)):
        return "tags are not allowed in EARG"
    return None


def _marks(root: yaml.Node | None, diags: list[Diagnostic], resolver: Any = None) -> Marks:
    marks = Marks()
    if root is None:
        return marks
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Path_]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            line, col, *_ = _pos(node)
            diags.append(Diagnostic(
                "E100", "error", "anchors and aliases are not allowed in EARG", line, col,
                hint="write the value out in full",
            ))
            continue
        seen.add(id(node))
        marks.values[path] = _pos(node)
        odd = _odd_node(node, resolver) if resolver is not None else None
        if odd is not None:
            line, col, *_ = _pos(node)
            diags.append(Diagnostic("E100", "error", odd, line, col,
                                    hint="write plain values: EARG needs no `!!` tags, and numbers in range"))
            if len(diags) > MAX_DIAGNOSTICS:
                return marks
            continue
        if isinstance(node, yaml.MappingNode):
            names: set[str | int] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in names:
                    line, col, *_ = _pos(key_node)
                    diags.append(Diagnostic(
                        "E100", "error", f"duplicate key `{key}`", line, col,
                        hint="each key may appear once in a mapping; remove one",
                    ))
                names.add(key)
                marks.keys[(*path, key)] = _pos(key_node)
                stack.append((value_node, (*path, key)))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, (*path, i)))
    return marks


MAX_ITEMS = 100_000  # entries of one list or mapping (keys and values count apart)
MAX_VALUES = 400_000  # scalars (keys too), lists and mappings: 10,000 nodes need about 350,000


def _too_many_values(text: str) -> Diagnostic | None:
    """A document with more values than any EARG graph needs, found by streaming the
    parser's events before any node is built (building is what costs memory)."""
    count = 0
    items: list[int] = []  # values in each open list or mapping
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            count += 1
            if items:
                items[-1] += 1
            if count > MAX_VALUES or (items and items[-1] > 2 * MAX_ITEMS):
                what = f"more than {MAX_VALUES:,} values" if count > MAX_VALUES else \
                    f"a list or mapping of more than {MAX_ITEMS:,} entries"
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
                return Diagnostic("E102", "error", f"the document holds {what}", line, column,
                                  hint="EARG graphs have at most 10,000 nodes")
            if not isinstance(event, yaml.ScalarEvent):
                items.append(0)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            items.pop()
    return None


def _yaml(text: str, diags: list[Diagnostic]) -> tuple[Any, Marks]:
    too_many = _too_many_values(text)
    if too_many is not None:
        diags.append(too_many)
        return None, Marks()
    loader = _SafeLoader(text)
    try:
        root = loader.get_single_node()
        marks = _marks(root, diags, loader)
        if diags:
            return None, marks
        try:
            data = loader.construct_document(root) if root is not None else None
        except (ValueError, TypeError, OverflowError, ArithmeticError, LookupError, AttributeError) as err:
            diags.append(Diagnostic("E100", "error", f"cannot read a value: {str(err)[:100]}", 1, 1,
                                    hint="write plain values: EARG needs no `!!` tags"))
            return None, marks
        return data, marks
    finally:
        loader.dispose()


def _yaml_error(err: yaml.YAMLError) -> Diagnostic:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return Diagnostic(
        "E100", "error", message, line, column,
        hint="check the indentation, colons and quotes around this position",
    )


def read_text(text: str, is_json: bool) -> tuple[Any, Marks, list[Diagnostic]]:
    """Parse YAML (or JSON) text into plain data, positions and E100 diagnostics."""
    diags: list[Diagnostic] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        if is_json:
            try:
                data = json.loads(text, parse_constant=_no_constant, parse_int=_bounded_int)
            except json.JSONDecodeError as err:
                diags.append(Diagnostic(
                    "E100", "error", f"JSON syntax error: {err.msg}", err.lineno, err.colno,
                    hint="check the commas, quotes and brackets around this position",
                ))
                return None, Marks(), diags
            except ValueError as err:  # NaN / Infinity
                diags.append(Diagnostic("E100", "error", f"JSON syntax error: {err}", hint="use finite numbers"))
                return None, Marks(), diags
            return data, _best_effort_marks(text), diags
        data, marks = _yaml(text, diags)
        return data, marks, diags
    except yaml.YAMLError as err:
        diags.append(_yaml_error(err))
    except RecursionError:
        diags.append(Diagnostic("E100", "error", "the document is nested too deeply", 1, 1,
                                hint=f"EARG documents nest at most {MAX_DEPTH} levels"))
    return None, Marks(), diags


def _bounded_int(digits: str) -> int:
    if len(digits) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number written with {len(digits):,} digits is out of range")
    return int(digits)


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not a number EARG accepts")


def _best_effort_marks(text: str) -> Marks:
    """Positions for JSON text, read with the YAML composer (JSON is nearly YAML)."""
    try:
        if _too_many_values(text) is not None:
            return Marks()
        return _marks(yaml.compose(text, Loader=_SafeLoader), [])
    except Exception:  # noqa: BLE001 - positions are a nicety; the data is already read
        return Marks()


def plain_problems(data: Any, marks: Marks) -> list[Diagnostic]:
    """Keys that are not strings, values JSON cannot hold, non-finite numbers, deep nesting."""
    out: list[Diagnostic] = []
    stack: list[tuple[Any, Path_]] = [(data, ())]
    while stack and len(out) <= MAX_DIAGNOSTICS:
        value, path = stack.pop()
        line, col = (marks.value(path) or (None, None))[:2]
        if len(path) > MAX_DEPTH:
            out.append(Diagnostic("E102", "error", "the document is nested too deeply", line, col,
                                  hint=f"EARG documents nest at most {MAX_DEPTH} levels"))
            return out
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    kline, kcol = (marks.key((*path, str(k))) or (line, col))[:2]
                    out.append(Diagnostic(
                        "E102", "error", f"got {show(k)} as a key; keys must be strings", kline, kcol,
                        hint=f'quote it: "{k}"',
                    ))
                    continue
                stack.append((v, (*path, k)))
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(Diagnostic("E102", "error", f"got {value} at {_where(path)}; numbers must be finite",
                                  line, col, hint="write a finite number"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and not in_range(value):
            out.append(Diagnostic("E102", "error", f"got {show(value)} at {_where(path)}; numbers are at most "
                                  f"{NUMBER_LIMIT:.3g} in size", line, col, hint="write a smaller number"))
        elif isinstance(value, str) and len(value) > STRING_LIMIT:
            out.append(Diagnostic("E102", "error", f"got a string of {len(value):,} characters at "
                                  f"{_where(path)}; strings are at most {STRING_LIMIT:,} characters",
                                  line, col, hint="shorten it"))
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            out.append(Diagnostic(
                "E102", "error", f"got {show(value)} ({type(value).__name__}) at {_where(path)}; "
                "EARG holds only strings, numbers, booleans, null, lists and mappings",
                line, col, hint="quote the value to make it a string",
            ))
    return out


def _where(path: Path_) -> str:
    return "`" + format_path(path) + "`" if path else "the top level"


def format_path(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def show(value: Any, pos: _Pos | None = None) -> str:
    """A value as a message quotes it: short, and never more than the line it starts on
    (a value written across lines, or a list or mapping, is named by its type only)."""
    lines = 1 if pos is None else (pos[2] - (pos[3] == 1)) - pos[0] + 1
    if lines > 1:
        if isinstance(value, dict):
            return "a mapping"
        if isinstance(value, list):
            return f"a list of {len(value)} item{'s' * (len(value) != 1)}"
        if isinstance(value, str):
            return f"a string written over {lines} lines"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length():,} bits"
    if isinstance(value, str) and len(value) > 60:
        return json.dumps(value[:57] + "...", ensure_ascii=False)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
