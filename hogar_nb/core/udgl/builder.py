"""Build a :class:`Graph` from parsed statements, reporting declaration problems.

Declarations are collected first, edges second, so a graph may use a node or a
template before the line that declares it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from lark import Token

from ..alerts import Alert
from ..diagnostics import MAX_DIAGNOSTICS, Diagnostic, Span, did_you_mean
from ..graph import Graph
from ..kinds import KINDS
from ..model import Edge, Node, Template
from ..values import BAD_VALUE, BadValue, Call, ParamRef, contains
from .edges import EdgeBuilding
from .instances import SubgraphBuilding
from .subgraphs import Compile, Instance, Use
from .transform import Attr, Record

__all__ = ["build_graph"]

def _sp(tok: Token) -> Span:
    return Span.of_token(tok)


class _Builder(SubgraphBuilding, EdgeBuilding):
    def __init__(
        self,
        params: Mapping[str, Any] | None,
        namespace: Mapping[str, Any] | None,
        broken: set[str],
        base_dir: Path = Path("."),
    ) -> None:
        self.graph = Graph()
        self.diags: list[Diagnostic] = []
        self.overrides = dict(params or {})
        self.namespace = namespace
        self.bad_names: set[str] = set(broken)
        self.reported: set[tuple[int | None, int | None]] = set()
        self.header: Token | None = None
        self.edge_first: dict[tuple[str, str], Span] = {}
        self.dropped = 0  # problems past the cap, counted only
        self.base_dir = base_dir
        self.uses: dict[str, Use] = {}
        self.pending: list[Record] = []  # subgraph instances, expanded once every declaration is read
        self.instances: dict[str, Instance] = {}
        self.order: list[str] = []  # node and instance names in declaration order

    @property
    def full(self) -> bool:
        """Whether the report is past its cap (see :func:`~hogar_nb.core.diagnostics.limit`)."""
        return len(self.diags) > MAX_DIAGNOSTICS

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None, **kw) -> None:
        self.diags.append(Diagnostic.at(code, message, span, hint=hint, **kw))

    # ------------------------------------------------------------ attributes
    def attr_dict(self, attrs: list[Attr] | None, where: str) -> tuple[dict[str, Any], dict[str, Span]]:
        values: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        for a in attrs or ():
            if a.name in values:
                first = spans[a.name]
                self.error(
                    "E014", f"attribute `{a.name}` is set twice {where}", a.name_span,
                    hint=f"it was first set on line {first.line}; keep one",
                )
                continue
            values[a.name] = a.value
            spans[a.name] = a.value_span
        return values, spans

    # ---------------------------------------------------------- declarations
    def declare(self, rec: Record) -> None:
        shape = rec.shape
        if shape == "lost":
            # A statement too broken to read: its syntax error is reported; the nodes
            # it names (or, naming none, the whole graph) are incomplete.
            names = {str(t) for t in rec.tokens}
            self.graph.incomplete.update(names or {""})
            return
        kw = rec.tokens[0]
        word = str(kw)
        if shape == "salvaged":
            name = str(rec.tokens[1])
            if word in KINDS or word in self.graph.templates:
                self.declare_node(rec)
            self.graph.incomplete.add(name)
            self.bad_names.add(name)
            return
        if shape == "named":
            if word == "graph":
                self.set_header(rec.tokens[1], rec.value.value if rec.value else None, kw)
            else:
                self.error(
                    "E001", f"unexpected string after `{word} {rec.tokens[1]}`",
                    rec.value.span if rec.value else _sp(kw),
                    hint=f'to describe a node write `{word} {rec.tokens[1]} {{ description = "..." }}`',
                )
        elif shape == "decl":
            if word == "graph":
                self.set_header(rec.tokens[1], None, kw)
                if rec.attrs is not None:
                    self.declare_graph_attrs(rec.attrs)
            elif word in ("param", "template"):
                self.error("E001", f"`{word} {rec.tokens[1]}` needs `= ...`", _sp(rec.tokens[1]),
                           hint="write `param name = value`" if word == "param"
                           else "write `template name = kind { attrs }`")
            elif word in ("defaults", "cluster"):
                self.error("E001", f"`{word}` takes no name here", _sp(rec.tokens[1]),
                           hint=f"write `{word} {{ ... }}`")
            elif word == "alert" and word not in self.graph.templates:
                self.declare_alert(rec)
            else:
                self.declare_node(rec)
        elif shape == "assign":
            if word == "param":
                self.declare_param(rec)
            elif word == "template":
                from ..values import Ident

                if rec.value is not None and isinstance(rec.value.value, Ident):
                    self.declare_template(rec.tokens[1], rec.value.value.name, rec.value.span, None)
                else:
                    self.error("E001", "a template names a kind", rec.value.span if rec.value else _sp(kw),
                               hint="write `template gpu_model = model { gpu = 1 }`")
            elif word != "use":  # `use` statements are read first (see build_graph)
                self.unknown_statement(kw, "`NAME = value` is only for `param`, `template` and `use`")
        elif shape == "template":
            if word != "template":
                self.unknown_statement(kw, "did you mean `template`?")
                return
            kind_tok = rec.tokens[2]
            self.declare_template(rec.tokens[1], str(kind_tok), _sp(kind_tok), rec.attrs)
        elif shape == "block":
            if word == "defaults":
                self.declare_block("defaults", rec.attrs, kw)
            elif word == "cluster":
                self.declare_block("cluster", rec.attrs, kw)
            elif word in KINDS or word in self.graph.templates:
                self.error("E001", f"this `{word}` node has no name", _sp(kw),
                           hint=f"write `{word} NAME {{ ... }}`")
            else:
                self.unknown_statement(kw, did_you_mean(word, ("defaults", "cluster")))

    def unknown_statement(self, kw: Token, hint: str | None) -> None:
        self.error("E001", f"`{kw}` does not start a statement here", _sp(kw), hint=hint)

    def set_header(self, name_tok: Token, description: str | None, kw: Token) -> None:
        if self.header is not None:
            self.error("E015", "the graph is named twice", _sp(kw),
                       hint=f"keep one `graph` line (the first is on line {self.header.line})")
            return
        self.header = kw
        self.graph.name = str(name_tok)
        self.graph.header = True
        self.graph.description = description

    def declare_graph_attrs(self, attrs) -> None:
        """``graph NAME { ... }``: the graph's settings; ``description`` is the header's string."""
        values, spans = self.attr_dict(attrs, "of `graph`")
        if "description" in values:
            text = values.pop("description")
            span = spans.pop("description", None)
            if isinstance(text, str):
                self.graph.description = text
            else:
                self.error("E020", "got a value that is not a string for `description` of `graph`", span,
                           hint='write description = "what the graph does"')
        self.graph.attrs, self.graph.attr_spans = values, spans

    def declare_param(self, rec: Record) -> None:
        name_tok = rec.tokens[1]
        name = str(name_tok)
        if name in self.graph.params:
            self.error("E015", f"param `{name}` is declared twice", _sp(name_tok))
            return
        written = rec.value
        assert written is not None  # an "assign" record has a value (BAD_VALUE when unreadable)
        value = self.overrides.pop(name, written.value)
        if contains(value, ParamRef):
            self.error("E025", f"the value of param `{name}` refers to another param", written.span,
                       hint="a param's value is written out: a number, a duration, a string...")
            value = BAD_VALUE
        elif contains(value, BadValue):
            value = BAD_VALUE  # already reported where it is wrong; the param is broken as a whole
        self.graph.params[name] = value
        self.graph.param_spans[name] = written.span

    def declare_template(self, name_tok: Token, kind: str, kind_span: Span, attrs) -> None:
        name = str(name_tok)
        if name in self.graph.templates or name in KINDS:
            self.error("E015", f"template `{name}` is declared twice" if name in self.graph.templates
                       else f"template `{name}` would hide the built-in kind `{name}`", _sp(name_tok),
                       hint="pick another name")
            return
        if kind not in KINDS:
            self.error("E010", f"unknown kind `{kind}` for template `{name}`", kind_span,
                       hint=did_you_mean(kind, KINDS) or "kinds: " + ", ".join(KINDS))
        values, spans = self.attr_dict(attrs, f"in template `{name}`")
        self.graph.templates[name] = Template(name, kind, values, _sp(name_tok), kind_span, spans)

    def declare_block(self, which: str, attrs, kw: Token) -> None:
        values, spans = self.attr_dict(attrs, f"in `{which}`")
        if which == "defaults":
            if self.graph.defaults:
                self.error("E015", "`defaults` is given twice", _sp(kw), hint="merge them into one block")
                return
            self.graph.defaults, self.graph.defaults_spans = values, spans
        else:
            if self.graph.cluster is not None:
                self.error("E015", "`cluster` is given twice", _sp(kw), hint="merge them into one block")
                return
            self.graph.cluster, self.graph.cluster_spans = values, spans

    def declare_alert(self, rec: Record) -> None:
        name_tok = rec.tokens[1]
        name = str(name_tok)
        if name in self.graph.alerts:
            self.error("E015", f"alert `{name}` is declared twice", _sp(name_tok), hint="pick another name")
            return
        values, spans = self.attr_dict(rec.attrs, f"in alert `{name}`")
        self.graph.alerts[name] = Alert(name, values, _sp(name_tok), spans)

    def declare_node(self, rec: Record) -> None:
        kind_tok, name_tok = rec.tokens
        kind, name = str(kind_tok), str(name_tok)
        template = None
        if kind not in KINDS and kind in self.uses and kind not in self.graph.templates:
            if name in self.graph.nodes or name in self.instances or any(r.tokens[1] == name for r in self.pending):
                self.error("E013", f"duplicate node name `{name}`", _sp(name_tok), hint="rename one", node=name)
                return
            self.pending.append(rec)
            self.order.append(name)
            return
        if kind not in KINDS:
            tpl = self.graph.templates.get(kind)
            if tpl is None:
                if self.full:
                    self.dropped += 1
                    self.bad_names.add(name)
                    return
                choices = [*KINDS, *self.graph.templates, *self.uses]
                self.error("E010", f"unknown kind `{kind}`", _sp(kind_tok),
                           hint=did_you_mean(kind, choices) or "kinds: " + ", ".join(choices))
                self.bad_names.add(name)
                return
            template, kind = tpl.name, tpl.kind
            if kind not in KINDS:
                self.bad_names.add(name)
                return
        if name in self.graph.nodes:
            first = self.graph.nodes[name].span
            self.error("E013", f"duplicate node name `{name}`", _sp(name_tok),
                       hint=f"it is already declared on line {first.line}; rename one" if first else "rename one",
                       node=name)
            return
        values, spans = self.attr_dict(rec.attrs, f"of node `{name}`")
        self.graph.nodes[name] = Node(name, kind, values, template, _sp(name_tok), _sp(kind_tok), spans)
        self.order.append(name)

    def finish(self) -> None:
        if self.dropped:
            self.diags.append(Diagnostic.at(
                "E006", f"{self.dropped} more problem{'s' * (self.dropped != 1)} like these not shown", None,
                hint="fix the ones above and check again",
            ))
        referenced = self._referenced_names()
        for name, value in self.overrides.items():
            if name in referenced:  # an undeclared `$name` a notebook would bind: the caller's value binds it
                self.graph.bound_params[name] = value
                continue
            self.diags.append(Diagnostic.at(
                "W001", f"param `{name}` is given but the graph declares no such param", None,
                severity="warning",
                hint=did_you_mean(name, self.graph.params) or "declare it with `param NAME = default`",
            ))

    def _referenced_names(self) -> set[str]:
        """Every ``$name`` the graph's attributes refer to."""
        names: set[str] = set()

        def visit(value: Any) -> None:
            if isinstance(value, ParamRef):
                names.add(value.name)
            elif isinstance(value, list):
                for v in value:
                    visit(v)
            elif isinstance(value, Call):
                for _k, v in value.kwargs:
                    visit(v)

        g = self.graph
        holders: list[Node | Template | Edge] = [*g.nodes.values(), *g.templates.values(), *g.edges]
        for holder in holders:
            for v in holder.attrs.values():
                visit(v)
        for v in g.defaults.values():
            visit(v)
        return names

    def undeclared_overrides(self) -> dict[str, Any]:
        """The caller's values for names the graph does not declare (all of them, once the
        declarations are read): what its undeclared ``$name`` references may bind to."""
        return dict(self.overrides)

def build_graph(
    records: list[Record],
    params: Mapping[str, Any] | None = None,
    namespace: Mapping[str, Any] | None = None,
    broken: set[str] | None = None,
    base_dir: Path | None = None,
    compile_text: Compile | None = None,
) -> tuple[Graph, list[Diagnostic]]:
    """The graph and the declaration diagnostics of a parsed UDGL text;
    ``compile_text`` compiles the graphs it includes (``use``)."""
    b = _Builder(params, namespace, broken or set(), base_dir if base_dir is not None else Path.cwd())
    b.compile_text = compile_text
    for rec in records:
        if rec.shape == "assign" and str(rec.tokens[0]) == "use":
            b.declare_use(rec)
    for rec in records:
        if rec.shape != "chain":
            b.declare(rec)
    b.expand_instances()
    for rec in records:
        if rec.shape == "chain":
            b.connect(rec)
    b.finish()
    b.graph.namespace = namespace
    return b.graph, b.diags
