"""Completion for UDGL editors: what fits at the cursor, from the core's kind table.

The context (statement start, after ``->``, inside a node's ``{ }``, after ``name =``)
is read from the text before the cursor with a small scanner that tolerates the
half-written text of a live editor; the words come from :mod:`hogar_nb.core.kinds`
and from the names the text declares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ...core import kinds
from .service import editor_source, split_magic

__all__ = ["KEYWORDS", "complete", "complete_source", "starting_with"]

KEYWORDS: dict[str, str] = {
    "graph": "names the graph: graph NAME \"description\"",
    "param": "a parameter with a default: param NAME = VALUE, used as $NAME",
    "defaults": "attributes every node takes unless it sets its own",
    "template": "a named kind with preset attributes: template NAME = KIND { ... }",
    "cluster": "the machines available, for placement analysis",
    "use": "a graph file as a kind, for subgraphs: use NAME = \"blocks/file.udgl\", then NAME INSTANCE { params }",
}

_TOKEN = re.compile(
    r"""(?P<nl>\n)|(?P<ws>[ \t\r\f]+)|(?P<comment>\#[^\n]*)
    |(?P<string>"(?:[^"\\\n]|\\.)*"?)|(?P<param>\$[A-Za-z_][A-Za-z0-9_]*|\$)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[A-Za-z%]*)
    |(?P<arrow>->)|(?P<punct>.)""",
    re.X,
)
_OPEN = {"{": "}", "[": "]", "(": ")"}
_CLOSE = {v: k for k, v in _OPEN.items()}


@dataclass
class _Tok:
    kind: str
    text: str
    end: int


@dataclass
class _Names:
    nodes: list[str] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)  # template -> kind
    params: list[str] = field(default_factory=list)
    uses: dict[str, str] = field(default_factory=dict)  # subgraph kind -> its file


def _statements(text: str) -> list[list[_Tok]]:
    """Tokens grouped into statements (a newline outside brackets ends one)."""
    out: list[list[_Tok]] = [[]]
    depth = 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        tok = m.group()
        if kind in ("ws", "comment"):
            continue
        if kind == "nl":
            if depth == 0 and out[-1]:
                out.append([])
            continue
        if tok in _OPEN:
            depth += 1
        elif tok in _CLOSE and depth:
            depth -= 1
        out[-1].append(_Tok(kind, tok, m.end()))
    return out


def _declared(text: str) -> _Names:
    names = _Names()
    for st in _statements(text):
        words = [t.text for t in st[:4]]
        if len(st) < 2 or st[0].kind != "name" or st[1].kind != "name":
            continue
        head, name = words[0], words[1]
        if head == "template":
            if len(st) >= 4 and st[2].text == "=" and st[3].kind == "name":
                names.templates[name] = st[3].text
        elif head == "param":
            names.params.append(name)
        elif head == "use":
            if len(st) >= 4 and st[2].text == "=" and st[3].kind == "string":
                names.uses[name] = st[3].text.strip('"')
        elif head != "graph":
            names.nodes.append(name)
    return names


def _item(label: str, type_: str, detail: str = "", info: str = "", apply: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"label": label, "type": type_}
    if detail:
        item["detail"] = detail
    if info:
        item["info"] = info
    if apply is not None:
        item["apply"] = apply
    return item


def _attr_items(specs: dict[str, kinds.AttrSpec], present: set[str]) -> list[dict[str, Any]]:
    return [
        _item(s.name, "property", s.type + (" (required)" if s.required else ""),
              f"{s.doc}; {s.expectation(with_range=True)}", apply=f"{s.name} = ")
        for s in specs.values() if s.name not in present
    ]


def _value_items(spec: kinds.AttrSpec | None, names: _Names) -> list[dict[str, Any]]:
    if spec is None:
        return []
    values: tuple[str, ...] = ()
    if spec.type == "enum":
        values = spec.choices
    elif spec.type == "recovery":
        values = kinds.RECOVERY_POLICIES
    elif spec.type == "combine":
        values = kinds.COMBINE_MODES
    elif spec.type == "bool":
        values = ("true", "false")
    items = [_item(v, "enum", spec.name, kinds.VALUE_DOCS.get(v, spec.doc)) for v in values]
    if spec.type == "recovery":
        items.append(_item("restart(max = 5, backoff = 100ms)", "enum", spec.name,
                           kinds.VALUE_DOCS["restart"] + ", with a limit and a pause",
                           apply="restart(max = 5, backoff = 100ms)"))
    items += [_item(f"${p}", "variable", "param") for p in names.params]
    return items


def _kind_items(names: _Names) -> list[dict[str, Any]]:
    items = [_item(k, "type", "kind", doc) for k, doc in kinds.KINDS.items()]
    items += [_item(t, "class", f"template of {k}", kinds.KINDS.get(k, "")) for t, k in names.templates.items()]
    items += [_item(u, "class", f"subgraph from {f}", "its instances expand into the graph file's nodes")
              for u, f in names.uses.items()]
    return items


def _node_items(names: _Names) -> list[dict[str, Any]]:
    return [_item(n, "variable", "node") for n in dict.fromkeys(names.nodes)]


def _block_specs(st: list[_Tok], names: _Names) -> dict[str, kinds.AttrSpec]:
    """The attributes the ``{ }`` block that ``st`` opens accepts."""
    words = [t.text for t in st]
    if "->" in words:
        return kinds.EDGE_ATTRS
    head = words[0] if words else ""
    if head == "defaults":
        return kinds.COMMON_ATTRS
    if head == "cluster":
        return kinds.CLUSTER_ATTRS
    if head == "template" and len(words) >= 4 and words[2] == "=":
        return kinds.attrs_for_kind(words[3])
    kind = names.templates.get(head, head)
    return kinds.attrs_for_kind(kind)


def complete(text: str, line: int, column: int) -> dict[str, Any]:
    """What to offer at 1-based ``line``/``column`` of ``text``.

    Returns ``{"prefix": the word being typed, "items": [{label, type, detail, info,
    apply?}]}``; the editor replaces the prefix with the chosen item.
    """
    lines = text.split("\n")
    line = min(max(line, 1), len(lines))
    column = min(max(column, 1), len(lines[line - 1]) + 1)
    before = "\n".join(lines[: line - 1] + [lines[line - 1][: column - 1]])
    names = _declared(text)
    st = _statements(before)[-1]
    prefix = ""
    if st and st[-1].end == len(before) and st[-1].kind in ("name", "param"):
        prefix = st.pop().text
    if prefix.startswith("$"):
        return {"prefix": prefix, "items": [_item(f"${p}", "variable", "param") for p in names.params]}
    stack: list[int] = []  # indices of open brackets in st
    for i, t in enumerate(st):
        if t.text in _OPEN:
            stack.append(i)
        elif t.text in _CLOSE and stack and st[stack[-1]].text == _CLOSE[t.text]:
            stack.pop()
    last = st[-1].text if st else ""
    items: list[dict[str, Any]] = []
    if stack and st[stack[-1]].text == "{":
        opened = stack[-1]
        block = st[opened + 1:]
        if len(stack) == 1:
            specs = _block_specs(st[:opened], names)
            if last in ("{", ","):
                present = {block[i].text for i in range(len(block) - 1) if block[i + 1].text == "="}
                items = _attr_items(specs, present)
            elif last == "=" and len(st) >= 2 and st[-2].kind == "name":
                items = _value_items(specs.get(st[-2].text), names)
    elif stack and st[stack[-1]].text == "[":
        if "->" in [t.text for t in st[: stack[-1]]] or st[: stack[-1]] == []:
            items = _node_items(names)
    elif not stack:
        if not st:
            items = [_item(k, "keyword", "keyword", doc) for k, doc in KEYWORDS.items()]
            items += _kind_items(names) + _node_items(names)
        elif last == "->":
            items = _node_items(names)
        elif last == "=" and len(st) == 3 and st[0].text == "template":
            items = _kind_items(names)
    return {"prefix": prefix, "items": items}


def complete_source(text: str, line: int, column: int, cell: bool = False) -> dict[str, Any]:
    """:func:`complete` for an editor's ``text``: a ``.udgl`` file, or a notebook cell
    (``cell``) whose first line is the ``%%udgl`` magic's, where nothing is offered."""
    if cell and line <= 1 and split_magic(text)[0]:
        return {"prefix": "", "items": []}
    return complete(editor_source(text, cell), line, column)


def starting_with(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """The items of a :func:`complete` reply that extend the word typed (what a Tab
    completion offers, where nothing filters the list further)."""
    prefix = reply["prefix"]
    return [item for item in reply["items"] if item["label"].startswith(prefix)]
