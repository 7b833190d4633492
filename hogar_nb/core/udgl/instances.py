"""The builder's part for subgraphs: ``use`` statements, instances and their ports
(see :mod:`hogar_nb.core.udgl.subgraphs` for what they mean)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lark import Token

from ..coerce import CoerceError
from ..diagnostics import Diagnostic, Span, did_you_mean
from ..kinds import KINDS
from ..resolve import _Params, substitute
from .subgraphs import Compile, Instance, Use, expand, expanding
from .transform import Record

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from ..graph import Graph

__all__ = ["SubgraphBuilding"]


def _sp(tok: Token) -> Span:
    return Span.of_token(tok)


class SubgraphBuilding:
    """Mixed into the builder: what it does with ``use`` and subgraph instances."""

    compile_text: Compile | None = None  # compiles an included graph's text

    graph: "Graph"
    diags: list[Diagnostic]
    uses: dict[str, Use]
    pending: list[Record]
    instances: dict[str, Instance]
    order: list[str]
    base_dir: "Path"
    namespace: Any
    bad_names: set[str]

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None, **kw: Any) -> None:
        raise NotImplementedError  # pragma: no cover - the builder's

    def attr_dict(self, attrs: Any, where: str) -> tuple[dict[str, Any], dict[str, Span]]:
        raise NotImplementedError  # pragma: no cover - the builder's

    def undeclared_overrides(self) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - the builder's

    @property
    def declared_here(self) -> set[str]:
        """The nodes this text declares itself (not an instance's)."""
        return {n for n in self.order if n in self.graph.nodes and self.graph.nodes[n].origin is None}

    def lost(self, found: Instance) -> list[str]:
        """No edge for a bad port; the instance's checks that would only repeat it hold back."""
        self.graph.incomplete.update(k for k in self.graph.nodes if k.startswith(found.name + "."))
        return []

    def declare_use(self, rec: Record) -> None:
        """``use NAME = "file"``: the included graph becomes a kind."""
        name_tok = rec.tokens[1]
        name = str(name_tok)
        written = rec.value
        if written is None or not isinstance(written.value, str):
            self.error("E020", f"`use {name}` names a graph file", written.span if written else _sp(name_tok),
                       hint=f'write `use {name} = "blocks/{name}.udgl"`')
            return
        if name in KINDS or name in self.uses:
            self.error("E015", f"`{name}` is already a kind" if name in KINDS else f"`use {name}` is given twice",
                       _sp(name_tok), hint="pick another name")
            return
        self.uses[name] = Use(name, written.value, written.span, self.base_dir / written.value)

    def expand_instances(self) -> None:
        with expanding():
            self._expand_instances()

    def _expand_instances(self) -> None:
        lookup = _Params({**self.undeclared_overrides(), **self.graph.params}, self.namespace)
        for rec in self.pending:
            kind_tok, name_tok = rec.tokens
            name = str(name_tok)
            values, spans = self.attr_dict(rec.attrs, f"of `{name}`")
            params: dict[str, Any] = {}
            for key, raw in values.items():
                try:
                    params[key] = substitute(raw, lookup)
                except CoerceError as err:
                    self.error(err.code, err.message, spans[key], hint=err.hint, node=name)
            found = expand(self.graph, self.uses[str(kind_tok)], name, params, spans, _sp(name_tok),
                           _sp(kind_tok), self.base_dir, self.namespace, self.diags, self.compile_text)
            if found is None:
                self.bad_names.add(name)
                self.graph.incomplete.add(name)
            else:
                self.instances[name] = found
        if self.pending:  # the expanded nodes take their instance's place in the declaration order
            nodes = self.graph.nodes
            own = self.declared_here
            inside: dict[str, list[str]] = {}
            for k in nodes:
                if k not in own and "." in k:
                    inside.setdefault(k.split(".", 1)[0], []).append(k)
            ordered = {n: nodes[n] for name in self.order
                       for n in ([name] if name in own else inside.get(name, []))}
            ordered.update(nodes)
            self.graph.nodes = ordered

    def ports(self, tok: Token, into: bool) -> list[str] | None:
        """The nodes an edge endpoint naming a subgraph instance (or its port) stands for."""
        name = str(tok)
        inst, _, port = name.partition(".")
        found = self.instances.get(name) or (self.instances.get(inst) if port else None)
        if found is None:
            return None
        if not into:
            if port or not found.output:
                self.error("E092", f"`{name}` has no output to connect" if not port else
                           f"`{name}` is an input of `{inst}`, not an output", _sp(tok),
                           hint=f"edges leave a subgraph from its name (`{inst} -> next`)")
                return self.lost(found)
            return found.output
        if port:
            if port not in found.inputs:
                self.error("E092", f"`{inst}` has no input `{port}`", _sp(tok),
                           hint=did_you_mean(port, found.inputs) or "its inputs: " + ", ".join(found.inputs))
                return self.lost(found)
            return found.inputs[port]
        if len(found.inputs) != 1:
            self.error("E092", f"`{name}` has {len(found.inputs)} inputs; name the one this edge feeds",
                       _sp(tok), hint=" or ".join(f"`{name}.{p}`" for p in found.inputs) or "add a source to it")
            return self.lost(found)
        return next(iter(found.inputs.values()))
