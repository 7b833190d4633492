"""What a statement that failed to parse still says clearly.

A syntax error is reported once, at its place; the rest of the statement is not
thrown away when its structure is plain: a node declaration keeps its kind, its name
and every attribute that parses on its own (the others count as written but bad), an
edge chain keeps its edges when only its attributes are broken. Anything less clear
becomes a ``lost`` record naming the nodes it mentions, so that checks which depend
on them (reachability, split weights...) hold back instead of reporting what the
lost text would have said.
"""

from __future__ import annotations

from lark import Lark, Token
from lark.exceptions import LarkError

from ..diagnostics import Diagnostic
from ..values import BAD_VALUE
from .transform import Attr, Located, Record, collecting

__all__ = ["salvage"]

_OPEN = {"LBRACE", "LSQB", "LPAR"}
_CLOSE = {"RBRACE", "RSQB", "RPAR"}


def _parse(lark: Lark, tokens: list[Token], start: str, diags: list[Diagnostic]):
    """The parser's record for ``tokens`` alone, or None; new literal problems only."""
    if not tokens:
        return None
    scratch: list[Diagnostic] = []
    ip = lark.parse_interactive(None, start=start)
    try:
        with collecting(scratch):
            for tok in tokens:
                ip.feed_token(tok)
            result = ip.feed_eof(tokens[-1])
    except LarkError:
        return None
    known = {(d.code, d.line, d.column) for d in diags}
    diags.extend(d for d in scratch if (d.code, d.line, d.column) not in known)
    return result


def _block(tokens: list[Token], i: int) -> tuple[list[Token], int]:
    """The tokens inside the ``{`` at ``i`` (to its match, or the end) and where it ends."""
    depth = 0
    for j in range(i, len(tokens)):
        t = tokens[j].type
        if t in _OPEN:
            depth += 1
        elif t in _CLOSE:
            depth -= 1
            if depth == 0:
                return tokens[i + 1:j], j
    return tokens[i + 1:], len(tokens)


def _attrs(lark: Lark, inner: list[Token], diags: list[Diagnostic]) -> list[Attr]:
    """Each ``name = value`` of a block that parses alone; the rest as bad values."""
    out: list[Attr] = []
    starts = [k for k in range(len(inner) - 1)
              if inner[k].type == "NAME" and inner[k + 1].type == "EQUAL" and _depth(inner, k) == 0]
    for n, k in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(inner)
        value_tokens = inner[k + 2:end]
        while value_tokens and value_tokens[-1].type == "COMMA" and _depth(value_tokens, len(value_tokens) - 1) == 0:
            value_tokens = value_tokens[:-1]
        located = _parse(lark, value_tokens, "value_only", diags)
        name = inner[k]
        name_span = _span(name)
        if not isinstance(located, Located):
            located = Located(BAD_VALUE, name_span)
        out.append(Attr(str(name), located.value, name_span, located.span))
    return out


def _depth(tokens: list[Token], k: int) -> int:
    depth = 0
    for tok in tokens[:k]:
        depth += (tok.type in _OPEN) - (tok.type in _CLOSE)
    return depth


def _span(tok: Token):
    from ..diagnostics import Span

    return Span.of_token(tok)


def salvage(lark: Lark, group: list[Token], diags: list[Diagnostic]) -> Record:
    """A record of what ``group`` (a statement that failed to parse) says for sure;
    ``lark`` is the UDGL parser that failed on it, tried again on its parts."""
    names = [t for t in group if t.type == "NAME"]
    first = str(group[0]) if group[0].type == "NAME" else None
    if first in ("defaults", "cluster") and len(group) > 1 and group[1].type == "LBRACE":
        return Record("block", [group[0]], attrs=_attrs(lark, _block(group, 1)[0], diags))
    if first is not None and len(group) >= 3 and group[1].type == "NAME" and group[2].type == "EQUAL":
        if first == "template" and len(group) >= 4 and group[3].type == "NAME":
            attrs = _attrs(lark, _block(group, 4)[0], diags) if len(group) > 4 and group[4].type == "LBRACE" else []
            return Record("template", [group[0], group[1], group[3]], attrs=attrs)
        value = _parse(lark, group[3:], "value_only", diags)
        if not isinstance(value, Located):
            value = Located(BAD_VALUE, _span(group[1]))
        return Record("assign", [group[0], group[1]], value=value)
    if len(group) >= 2 and group[0].type == "NAME" and group[1].type == "NAME" and not any(
        t.type == "ARROW" for t in group
    ):
        block = _attrs(lark, _block(group, 2)[0], diags) if len(group) > 2 and group[2].type == "LBRACE" else None
        return Record("salvaged", [group[0], group[1]], attrs=block)
    brace = next((i for i, t in enumerate(group) if t.type == "LBRACE" and _depth(group, i) == 0), None)
    if brace is not None and any(t.type == "ARROW" for t in group[:brace]):
        chain = _parse(lark, group[:brace], "statement", diags)
        if isinstance(chain, Record) and chain.shape == "chain":
            chain.attrs = _attrs(lark, _block(group, brace)[0], diags)
            return chain
    return Record("lost", names)
