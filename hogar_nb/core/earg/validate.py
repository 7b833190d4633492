"""Check an EARG document: version (E104), shape and types against the JSON Schema
(E101 unknown key, E102 wrong type or value, E103 missing key) and references
between its parts (E105). Each problem is a diagnostic at the key or value at fault.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from ..diagnostics import MAX_DIAGNOSTICS, Diagnostic, did_you_mean, sort_key
from ..kinds import WORKER_KINDS
from .read import Marks, Path_, format_path, plain_problems, show
from .schema import EARG_VERSION, KIND_KEYS, earg_schema

if TYPE_CHECKING:  # pragma: no cover
    import jsonschema

__all__ = ["MAX_EDGES", "MAX_NODES", "validate_earg"]

MAX_NODES = 10_000
MAX_EDGES = 100_000


@functools.cache
def _validator() -> "jsonschema.Draft202012Validator":
    # Imported on first use: with its optional format checkers installed, importing
    # jsonschema takes about a second, which `hogar compile` should not pay.
    import jsonschema

    return jsonschema.Draft202012Validator(earg_schema())


def validate_earg(doc: Any, marks: Marks | None = None) -> list[Diagnostic]:
    """Every problem of an EARG document (a parsed dict), sorted by position.

    ``marks`` (from reading the text) gives the diagnostics their line and column.
    """
    marks = marks or Marks()
    d = _Diag(doc, marks)
    if isinstance(doc, dict) and "earg" in doc and not _is_version(doc["earg"]):
        d.value("E104", ("earg",), f"unsupported EARG version {show(doc['earg'])}",
                f"this hogar_nb reads `earg: {EARG_VERSION}`; export the graph again with it")
        return d.out
    d.out += plain_problems(doc, marks)
    if d.out:
        return d.out
    for key, most in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        items = doc.get(key) if isinstance(doc, dict) else None
        if isinstance(items, list) and len(items) > most:
            d.value("E102", (key,), f"`{key}` has {len(items):,} entries; EARG allows at most {most:,}",
                    "a serving graph has at most a few thousand nodes")
            return d.out
    try:
        errors = _validator().iter_errors(doc)  # lazily: the first problems are enough
    except RecursionError:  # pragma: no cover - plain_problems bounds the depth
        d.value("E102", (), "the document is nested too deeply", "flatten it")
        return d.out
    for err in errors:
        d.schema_error(err)
        if len(d.out) > MAX_DIAGNOSTICS:
            break
    if not d.out:
        _references(doc, d)
    return sorted(dict.fromkeys(d.out), key=sort_key)  # each once, first seen kept


def _is_version(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v == EARG_VERSION


_TYPE_WORDS = {
    "integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
    "array": "a list", "object": "a mapping", "null": "null",
}
_PATTERN_WORDS = {
    "^[A-Za-z_][A-Za-z0-9_]*$": "a name (letters, digits and _, not starting with a digit)",
    "^/": 'a string starting with "/"',
    "^worker-(0|[1-9][0-9]*)$": "a worker id such as worker-0",
    "^[A-Za-z_][A-Za-z0-9_]*/(0|[1-9][0-9]*)$": "a replica id such as xgb/0",
}


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def expectation(schema: Any) -> str:
    """Words for what a (sub)schema accepts: ``an integer >= 1 and <= 10000``."""
    if not isinstance(schema, dict):
        return "nothing"
    if "const" in schema:
        return show(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(expectation(s) for s in schema["anyOf"])
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    bounds = []
    if "minimum" in schema:
        bounds.append(f">= {_num(schema['minimum'])}")
    if "exclusiveMinimum" in schema:
        bounds.append(f"> {_num(schema['exclusiveMinimum'])}")
    if "maximum" in schema:
        bounds.append(f"<= {_num(schema['maximum'])}")
    words = []
    for t in types:
        w = _TYPE_WORDS.get(t, t)
        if t in ("integer", "number") and bounds:
            w += " " + " and ".join(bounds)
        if t == "string" and schema.get("pattern") in _PATTERN_WORDS:
            w = _PATTERN_WORDS[schema["pattern"]]
        elif t == "string" and schema.get("minLength"):
            w = "a non-empty string"
        if t == "array" and "minItems" in schema:
            n = schema["minItems"]
            w = f"a list of {n} items" if schema.get("maxItems") == n else f"a list of at least {n} item{'s' * (n != 1)}"
        if t == "object" and schema.get("minProperties"):
            w = "a non-empty mapping"
        words.append(w)
    return " or ".join(words) or "something else"


class _Diag:
    """Collects diagnostics and words paths the way a person reads them."""

    def __init__(self, doc: Any, marks: Marks) -> None:
        self.doc = doc
        self.marks = marks
        self.out: list[Diagnostic] = []

    # --------------------------------------------------------------- wording
    def owner(self, path: Path_) -> tuple[str | None, Path_]:
        """("node `xgb`", rest) for a path inside a node or an edge; (None, path) otherwise."""
        if len(path) >= 2 and path[0] in ("nodes", "edges") and isinstance(path[1], int):
            try:
                item = self.doc[path[0]][path[1]]
            except (KeyError, IndexError, TypeError):
                item = None
            if isinstance(item, dict):
                if path[0] == "nodes" and isinstance(item.get("name"), str):
                    return f"node `{item['name']}`", path[2:]
                src, dst = item.get("src"), item.get("dst")
                if path[0] == "edges" and isinstance(src, str) and isinstance(dst, str):
                    return f"edge `{src} -> {dst}`", path[2:]
        return None, path

    def subject(self, path: Path_) -> str:
        owner, rest = self.owner(path)
        if owner and rest:
            return f"`{format_path(rest)}` of {owner}"
        if owner:
            return f"`{format_path(path)}` ({owner})"
        return f"`{format_path(path)}`" if path else "the document"

    def container(self, path: Path_) -> str:
        owner, rest = self.owner(path)
        if owner and rest:
            return f"in `{format_path(rest)}` of {owner}"
        if owner:
            return f"in {owner}"
        return f"in `{format_path(path)}`" if path else "at the top level"

    # -------------------------------------------------------------- emitting
    def _emit(self, code: str, pos, message: str, hint: str | None, path: Path_) -> None:
        line, col, end_line, end_col = pos or (None, None, None, None)
        node = edge = None
        owner, _ = self.owner(path)
        if owner and owner.startswith("node"):
            node = self.doc["nodes"][path[1]]["name"]
        elif owner:
            item = self.doc["edges"][path[1]]
            edge = (item["src"], item["dst"])
        self.out.append(Diagnostic(code, "error", message, line, col, end_line, end_col, hint, node, edge))

    def value(self, code: str, path: Path_, message: str, hint: str | None) -> None:
        self._emit(code, self.marks.value(path), message, hint, path)

    def key(self, code: str, path: Path_, message: str, hint: str | None) -> None:
        self._emit(code, self.marks.key(path), message, hint, path)

    # ---------------------------------------------------------- schema errors
    def schema_error(self, err: jsonschema.ValidationError) -> None:
        path = tuple(err.absolute_path)
        v = err.validator
        inst: Any = err.instance
        schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
        wanted: Any = err.validator_value
        if v == "additionalProperties" and isinstance(inst, dict):
            allowed = list(schema.get("properties", {}))
            patterns = schema.get("patternProperties", {})
            for key in inst:
                if key in allowed or any(_search(p, key) for p in patterns):
                    continue
                if patterns:
                    pattern = next(iter(patterns))
                    self.key("E102", (*path, key),
                             f"got {show(key)} as a key {self.container(path)}; expected {_PATTERN_WORDS.get(pattern, pattern)}",
                             "rename it")
                else:
                    self.key("E101", (*path, key), f"unknown key `{key}` {self.container(path)}",
                             did_you_mean(key, allowed) or "known keys: " + ", ".join(f"`{k}`" for k in allowed))
        elif v == "required" and isinstance(inst, dict):
            props = schema.get("properties", {})
            extras = [k for k in inst if k not in props]
            for key in wanted:
                if key not in inst and not any(did_you_mean(x, props) == f"did you mean `{key}`?" for x in extras):
                    doc = props.get(key, {}).get("description")
                    self.value("E103", path, f"missing key `{key}` {self.container(path)}",
                               f"add `{key}`" + (f" ({doc})" if doc else ""))
        elif v == "not" and isinstance(wanted, dict) and "required" in wanted:
            key = wanted["required"][0]
            kinds = KIND_KEYS.get(key, ())
            self.key("E101", (*path, key), f"unknown key `{key}` {self.container(path)}",
                     f"only {', '.join(kinds)} nodes have `{key}`; remove it")
        elif v == "dependentRequired":
            for key, needs in wanted.items():
                if key in inst:
                    for need in needs:
                        if need not in inst:
                            self.key("E103", (*path, key), f"missing key `{need}`: `{key}` needs it",
                                     f"add `{need}`, or remove `{key}`")
        elif v == "const" and path == ("earg",):
            self.value("E104", path, f"unsupported EARG version {show(inst)}",
                       f"this hogar_nb reads `earg: {EARG_VERSION}`")
        else:
            hint = None
            if v == "enum" and isinstance(inst, str):
                hint = did_you_mean(inst, [str(e) for e in wanted])
            elif isinstance(inst, str) and _looks_numeric(inst) and _wants_number(schema):
                hint = f"write {inst} without quotes"
            if not path:
                hint = f"an EARG document is a mapping that starts with `earg: {EARG_VERSION}`"
            if hint is None and isinstance(schema, dict) and schema.get("description"):
                hint = f"{format_path(path[-1:]) or 'it'}: {schema['description']}"
            shown = show(inst, self.marks.values.get(path))
            self.value("E102", path, f"got {shown} for {self.subject(path)}; expected {expectation(schema)}",
                       hint)


def _search(pattern: str, key: Any) -> bool:
    import re

    return isinstance(key, str) and re.search(pattern, key) is not None


def _wants_number(schema: Any) -> bool:
    types = schema.get("type", []) if isinstance(schema, dict) else []
    types = [types] if isinstance(types, str) else types
    return "number" in types or "integer" in types


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _references(doc: dict[str, Any], d: _Diag) -> None:
    """E105: names that point at nothing (or at the wrong thing), duplicates."""
    nodes: dict[str, dict] = {}
    for i, n in enumerate(doc["nodes"]):
        if n["name"] in nodes:
            d.value("E105", ("nodes", i, "name"), f"duplicate node name `{n['name']}`",
                    "node names are unique; rename one of them")
        nodes.setdefault(n["name"], n)

    def ref(path: Path_, name: str, what: str) -> bool:
        if name in nodes:
            return True
        d.value("E105", path, f"{what} names unknown node `{name}`",
                did_you_mean(name, nodes) or "known nodes: " + ", ".join(f"`{k}`" for k in nodes))
        return False

    seen_edges: set[tuple[str, str]] = set()
    inputs: dict[str, list[str]] = {}
    for j, e in enumerate(doc["edges"]):
        ok = ref(("edges", j, "src"), e["src"], f"edge `{e['src']} -> {e['dst']}`")
        ok = ref(("edges", j, "dst"), e["dst"], f"edge `{e['src']} -> {e['dst']}`") and ok
        if (e["src"], e["dst"]) in seen_edges:
            d.value("E105", ("edges", j), f"duplicate edge `{e['src']} -> {e['dst']}`", "remove one of them")
        seen_edges.add((e["src"], e["dst"]))
        if ok:
            inputs.setdefault(e["dst"], []).append(e["src"])
        else:
            inputs.setdefault(e["dst"], []).append("")  # unknown input: skip its weights checks
    resp = doc["response"]
    if ref(("response",), resp, "`response`") and nodes[resp]["kind"] != "sink":
        sinks = [k for k, n in nodes.items() if n["kind"] == "sink"]
        d.value("E105", ("response",), f"`response` names `{resp}`, a {nodes[resp]['kind']} node, not a sink",
                "name a sink: " + ", ".join(f"`{s}`" for s in sinks) if sinks else "add a sink node")
    for i, n in enumerate(doc["nodes"]):
        _node_refs(d, i, n, inputs.get(n["name"], []))
    for s, stage in enumerate(doc["stages"]):
        for k, name in enumerate(stage):
            ref(("stages", s, k), name, "`stages`")
    workers = doc.get("cluster", {}).get("workers", 0)
    for rid, worker in doc.get("placement", {}).items():
        name, _, index = rid.rpartition("/")
        if not ref(("placement", rid), name, f"`placement` entry `{rid}`"):
            continue
        if _index(index) >= nodes[name]["replicas"]:
            d.key("E105", ("placement", rid), f"`placement` names replica `{rid}`, but `{name}` has "
                  f"{nodes[name]['replicas']} replica{'s' * (nodes[name]['replicas'] != 1)}",
                  f"replicas of `{name}` are numbered from 0")
        if _index(worker.rpartition("-")[2]) >= workers:
            d.value("E105", ("placement", rid), f"`placement` puts `{rid}` on `{worker}`, but the cluster has "
                    f"{workers} worker{'s' * (workers != 1)}", "workers are numbered from worker-0")
    for name in doc.get("layout", {}):
        if name not in nodes:
            d.key("E105", ("layout", name), f"`layout` names unknown node `{name}`",
                  did_you_mean(name, nodes) or "remove it")


def _index(digits: str) -> int:
    """A replica or worker number (past any real count when absurdly long)."""
    return int(digits) if len(digits) <= 18 else 10**18


def _node_refs(d: _Diag, i: int, n: dict, inputs: list[str]) -> None:
    auto = n.get("autoscale")
    if auto is not None and auto["min_replicas"] > auto["max_replicas"]:
        d.value("E102", ("nodes", i, "autoscale"),
                f"`min_replicas` ({auto['min_replicas']}) of node `{n['name']}` is above its `max_replicas` "
                f"({auto['max_replicas']})", "make min_replicas <= max_replicas")
    elif auto is not None and not auto["min_replicas"] <= n["replicas"] <= auto["max_replicas"]:
        d.value("E102", ("nodes", i, "replicas"),
                f"got {n['replicas']} for `replicas` of autoscaled node `{n['name']}`; expected an integer "
                f"between its `min_replicas` ({auto['min_replicas']}) and `max_replicas` "
                f"({auto['max_replicas']})", f"write `replicas: {auto['min_replicas']}`")
    rec = n["recovery"]
    if rec["policy"] != "restart" and (rec["max_restarts"], rec["backoff_ms"], rec.get("within_ms", 60_000.0)) \
            != (5, 100.0, 60_000.0):
        d.value("E102", ("nodes", i, "recovery"),
                f"`max_restarts` and `backoff_ms` of node `{n['name']}` only apply to policy `restart`",
                f"use max_restarts: 5, backoff_ms: 100.0 with `{rec['policy']}`, or policy `restart`")
    if n["impl"] is not None and n["kind"] not in WORKER_KINDS:
        d.value("E102", ("nodes", i, "impl"), f"got {show(n['impl'])} for `impl` of node `{n['name']}`; "
                f"{n['kind']} nodes have no impl, expected null", "write `impl: null`")
    if "" in inputs:
        return
    for key in n.get("weights") or {}:
        if key not in inputs:
            d.key("E105", ("nodes", i, "weights", key),
                  f"`weights` of ensemble `{n['name']}` names `{key}`, which is not one of its inputs",
                  did_you_mean(key, inputs) or "its inputs: " + ", ".join(f"`{k}`" for k in inputs))
    missing = [k for k in inputs if "weights" in n and k not in n["weights"]]
    if missing:
        d.value("E105", ("nodes", i, "weights"),
                f"`weights` of ensemble `{n['name']}` has no weight for input `{missing[0]}`",
                "give one weight per input")
