"""Turn lark parse trees into plain statement records and typed UDGL values."""

from __future__ import annotations

import builtins

import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from lark import Token, Transformer

from ..diagnostics import Diagnostic, Span, did_you_mean
from ..values import (
    BAD_VALUE,
    DURATION_UNITS,
    SIZE_UNITS,
    Call,
    Condition,
    Duration,
    Ident,
    ParamRef,
    Percent,
    Shaped,
    Size,
    NUMBER_LIMIT,
    in_range,
    split_number,
)

__all__ = ["Attr", "Located", "Record", "StatementTransformer"]

_ALL_UNITS = [*DURATION_UNITS, *SIZE_UNITS, "%"]


@dataclass(slots=True)
class Located:
    """A value and where it was written."""

    value: Any
    span: Span


@dataclass(slots=True)
class Attr:
    name: str
    value: Any
    name_span: Span
    value_span: Span


@dataclass(slots=True)
class Record:
    """One statement: its shape (named, decl, assign, template, block, chain) and parts."""

    shape: str
    tokens: list[Token]
    attrs: list[Attr] | None = None
    value: Located | None = None
    chain: list[list[Token]] = field(default_factory=list)


def clip(text: str, most: int = 24) -> str:
    """``text`` as a message quotes it: whole when short, else its ends and its length."""
    if len(text) <= most:
        return text
    return f"{text[:10]}...{text[-6:]} ({len(text):,} characters)"


def _span(tok: Token) -> Span:
    return Span.of_token(tok)


def _join(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column)


_local = threading.local()


@contextmanager
def collecting(diags: list[Diagnostic]) -> Iterator[None]:
    """Send the transformer's literal diagnostics (units, escapes) to ``diags``."""
    previous = getattr(_local, "diags", None)
    _local.diags = diags
    try:
        yield
    finally:
        _local.diags = previous


class StatementTransformer(Transformer):
    """Builds records and values during parsing; bad literals go to :func:`collecting`'s list."""

    @property
    def diags(self) -> list[Diagnostic]:
        diags = getattr(_local, "diags", None)
        return diags if diags is not None else []

    # ---------------------------------------------------------------- values
    def number(self, children) -> Located:
        tok: Token = children[0]
        span = _span(tok)
        try:
            num, unit = split_number(str(tok))
        except ValueError:
            return self._out_of_range(tok, span)
        if unit and unit != "%" and unit not in DURATION_UNITS and unit not in SIZE_UNITS:
            return self._unknown_unit(tok, unit, span)
        if not in_range(num):
            return self._out_of_range(tok, span)
        if not unit:
            return Located(num, span)
        if unit == "%":
            return Located(Percent(num / 100), span)
        if unit in DURATION_UNITS:
            ms = num / 1000 if unit == "us" else float(num * DURATION_UNITS[unit])
            if not in_range(ms):
                return self._out_of_range(tok, span)
            return Located(Duration(ms), span)
        size = num * SIZE_UNITS[unit]
        if not in_range(size):
            return self._out_of_range(tok, span)
        if isinstance(size, float) and not size.is_integer():
            self.diags.append(Diagnostic.at(
                "E021", f"`{tok}` is not a whole number of bytes", span,
                hint="use a smaller unit, e.g. 1536KiB instead of 1.5MiB",
            ))
        return Located(Size(int(size)), span)

    def _out_of_range(self, tok: Token, span: Span) -> Located:
        shown = clip(str(tok))
        self.diags.append(Diagnostic.at(
            "E022", f"`{shown}` is out of range: numbers are finite and at most {NUMBER_LIMIT:.3g} in size",
            span, hint="write a smaller number",
        ))
        return Located(BAD_VALUE, span)

    def _unknown_unit(self, tok: Token, unit: str, span: Span) -> Located:
        from .lexer import UNIT_WORDS

        spelled = UNIT_WORDS.get(unit.lower())
        if spelled is not None and spelled != unit and did_you_mean(unit, _ALL_UNITS) is None:
            number = str(tok)[: len(str(tok)) - len(unit)]
            self.diags.append(Diagnostic.at(
                "E021", f"unknown unit `{unit}` in `{clip(str(tok))}`", span, hint=f"write `{clip(number)}{spelled}`",
            ))
            return Located(BAD_VALUE, span)
        self.diags.append(Diagnostic.at(
            "E021", f"unknown unit `{clip(unit)}` in `{clip(str(tok))}`", span,
            hint=did_you_mean(unit, _ALL_UNITS)
            or "durations: us, ms, s, m, h; sizes: B, KB, MB, GB, KiB, MiB, GiB, TiB; percentages: %",
        ))
        return Located(BAD_VALUE, span)

    def string(self, children) -> Located:
        tok: Token = children[0]
        try:
            value = json.loads(str(tok))
        except ValueError:
            self.diags.append(Diagnostic.at(
                "E002", f"invalid escape in string {clip(str(tok), 60)}", _span(tok),
                hint='allowed escapes: \\" \\\\ \\n \\t \\uXXXX',
            ))
            value = str(tok)[1:-1]
        return Located(value, _span(tok))

    def ident(self, children) -> Located:
        tok: Token = children[0]
        text = str(tok)
        if text == "true":
            return Located(True, _span(tok))
        if text == "false":
            return Located(False, _span(tok))
        return Located(Ident(text), _span(tok))

    def param(self, children) -> Located:
        tok: Token = children[0]
        return Located(ParamRef(str(tok)[1:]), _span(tok))

    def list(self, children) -> Located:
        first, last = children[0], children[-1]
        items = [c.value for c in children[1:-1] if isinstance(c, Located)]
        return Located(items, _join(_span(first), _span(last)))

    def kwarg(self, children) -> tuple[Token, Located]:
        return (children[0], children[2])

    def call(self, children) -> Located:
        name: Token = children[0]
        kwargs = [c for c in children[2:-1] if isinstance(c, tuple)]
        seen: set[str] = set()
        for key, _ in kwargs:
            if str(key) in seen:
                self.diags.append(Diagnostic.at(
                    "E014", f"argument `{key}` given twice in `{name}(...)`", _span(key)
                ))
            seen.add(str(key))
        value = Call(str(name), tuple((str(k), v.value) for k, v in kwargs))
        return Located(value, _join(_span(name), _span(children[-1])))

    def compare(self, children) -> Located:
        name: Token = children[0]
        args = tuple(str(c) for c in children[2:] if isinstance(c, Token) and c.type == "NAME")
        op: Token = next(c for c in children if isinstance(c, Token) and c.type == "CMP")
        bound: Located = children[-1]
        if isinstance(bound.value, Condition):
            self.diags.append(Diagnostic.at(
                "E020", f"`{name}(...) {op}` is compared with another comparison", bound.span,
                hint="compare a measure with one value, e.g. `drift_share(scorer) > 0.3`"))
        return Located(Condition(str(name), args, str(op), bound.value), _join(_span(name), bound.span))

    def shaped(self, children) -> Located:
        name: Token = children[0]
        dims = tuple(c.value for c in children[2:-1] if isinstance(c, Located))
        return Located(Shaped(str(name), dims), _join(_span(name), _span(children[-1])))

    def value_only(self, children) -> Located:
        return children[0]

    # ------------------------------------------------------------ attributes
    def attr(self, children) -> Attr:
        name, _, located = children
        return Attr(str(name), located.value, _span(name), _join(_span(name), located.span))

    def attrs(self, children) -> builtins.list[Attr]:  # `list` is the rule below
        return [c for c in children if isinstance(c, Attr)]

    # ------------------------------------------------------------- endpoints
    def one(self, children) -> builtins.list[Token]:
        return [children[0]]

    def group(self, children) -> builtins.list[Token]:
        return [c for c in children if isinstance(c, Token) and c.type == "NAME"]

    # ------------------------------------------------------------ statements
    def s_named(self, children) -> Record:
        kw, name, text = children
        return Record("named", [kw, name], value=self.string([text]))

    def s_decl(self, children) -> Record:
        kw, name, *rest = children
        return Record("decl", [kw, name], attrs=rest[0] if rest else None)

    def s_assign(self, children) -> Record:
        kw, name, _, located = children
        return Record("assign", [kw, name], value=located)

    def s_template(self, children) -> Record:
        kw, name, _, kind, attrs = children
        return Record("template", [kw, name, kind], attrs=attrs)

    def s_block(self, children) -> Record:
        kw, attrs = children
        return Record("block", [kw], attrs=attrs)

    def s_chain(self, children) -> Record:
        attrs = None
        last = children[-1]
        if isinstance(last, list) and (not last or isinstance(last[0], Attr)):
            attrs, children = last, children[:-1]
        endpoints = [c for c in children if isinstance(c, list)]
        return Record("chain", [endpoints[0][0]], attrs=attrs, chain=endpoints)
