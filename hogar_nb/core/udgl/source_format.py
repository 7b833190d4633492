"""Format UDGL text without changing a token: what ``hogar fmt`` writes.

Formatting works on the text, not on the graph read from it, so nothing the author
wrote can be lost: every statement keeps its place and its tokens (``$param``
references, templates, literals as written), every comment is kept, and only the
layout changes: spacing, commas between attributes, one blank line at most between
statements, node declarations aligned in columns, attribute blocks on one line or,
when too long or commented inside, one attribute per line. A statement with a
comment where none of those layouts can keep it is left as written.

The layout is the one :func:`~hogar_nb.core.udgl.format.format_graph` gives a graph,
so the text a graph was exported as is already formatted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token

from ...errors import UDGLError
from ..diagnostics import Diagnostic
from .lexer import Comment, tokenize

__all__ = ["format_source"]

WIDTH = 100  # the longest attribute block kept on one line
_OPEN = {"LBRACE", "LSQB", "LPAR"}
_CLOSE = {"RBRACE", "RSQB", "RPAR"}
_NOT_NODES = {"graph", "param", "template", "defaults", "cluster", "alert"}


def _line(tok: Token) -> int:
    """The line of a token the lexer made (it gives every token one; lark's type allows None)."""
    assert tok.line is not None
    return tok.line


@dataclass
class _Attr:
    name: Token
    value: list[Token]
    trailing: str | None = None
    before: list[str] = field(default_factory=list)  # comment lines above it

    @property
    def last_line(self) -> int:
        return _line((self.value or [self.name])[-1])


@dataclass
class _Statement:
    tokens: list[Token]
    first: int
    last: int
    trailing: str | None = None
    inner: list[Comment] = field(default_factory=list)


def format_source(text: str) -> str:
    """``text`` laid out canonically, with every token and comment kept.

    Raises :class:`UDGLError` if the text has a lexical error (a bad character or an
    unterminated string), which formatting cannot place.
    """
    diags: list[Diagnostic] = []
    comments: list[Comment] = []
    tokens = list(tokenize(text, diags, comments))
    if diags:
        raise UDGLError(diags, text)
    items = _items(_statements(tokens), comments)
    lines = text.split("\n")
    out: list[str] = []
    run: list[_Statement] = []  # consecutive node declarations, aligned together
    prev_last = None
    for item in items:
        first = item.first if isinstance(item, _Statement) else item.line
        last = item.last if isinstance(item, _Statement) else item.line
        blank = prev_last is not None and first > prev_last + 1
        if run and (blank or not (isinstance(item, _Statement) and _is_node(item))):
            out.extend(_render_run(run, lines))
            run = []
        if blank and out:
            out.append("")
        if isinstance(item, _Statement) and _is_node(item):
            run.append(item)
        elif isinstance(item, _Statement):
            out.extend(_render(item, lines, None))
        else:
            out.append(item.text)
        prev_last = last
    if run:
        out.extend(_render_run(run, lines))
    return "\n".join(out) + "\n" if out else ""


# ------------------------------------------------------------------ structure
def _statements(tokens: list[Token]) -> list[_Statement]:
    out: list[_Statement] = []
    group: list[Token] = []
    depth = 0
    for tok in tokens:
        if tok.type == "NL" and depth == 0:
            if group:
                out.append(_Statement(group, _line(group[0]), _line(group[-1])))
            group = []
            continue
        if tok.type == "NL":
            continue
        depth += (tok.type in _OPEN) - (tok.type in _CLOSE)
        depth = max(depth, 0)
        group.append(tok)
    if group:
        out.append(_Statement(group, _line(group[0]), _line(group[-1])))
    return out


def _items(statements: list[_Statement], comments: list[Comment]) -> list:
    """Statements and standalone comments in source order; comments inside or after a
    statement are attached to it."""
    by_line: dict[int, _Statement] = {}
    for statement in statements:
        for line in range(statement.first, statement.last + 1):
            by_line[line] = statement
    items: list = list(statements)
    for c in comments:
        st = by_line.get(c.line)
        if st is None:
            items.append(c)
        elif c.line == st.last:
            st.trailing = c.text
        else:
            st.inner.append(c)
    items.sort(key=lambda x: x.first if isinstance(x, _Statement) else x.line)
    return items


def _is_node(st: _Statement) -> bool:
    t = st.tokens
    return (len(t) >= 2 and t[0].type == "NAME" and t[1].type == "NAME" and str(t[0]) not in _NOT_NODES
            and (len(t) == 2 or t[2].type == "LBRACE"))


def _block_start(tokens: list[Token]) -> int | None:
    """Index of the statement's attribute block `{` (at depth 0), if any."""
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type == "LBRACE" and depth == 0:
            return i
        depth += (tok.type in _OPEN) - (tok.type in _CLOSE)
    return None


def _attrs(inner: list[Token]) -> list[_Attr]:
    out: list[_Attr] = []
    depth = 0
    for i, tok in enumerate(inner):
        if depth == 0 and tok.type == "NAME" and i + 1 < len(inner) and inner[i + 1].type == "EQUAL":
            out.append(_Attr(tok, []))
        elif out and not (tok.type == "EQUAL" and depth == 0 and not out[-1].value):
            if not (tok.type == "COMMA" and depth == 0):
                out[-1].value.append(tok)
        depth += (tok.type in _OPEN) - (tok.type in _CLOSE)
    return out


# ------------------------------------------------------------------- rendering
def _join(tokens: list[Token]) -> str:
    """Tokens with canonical spacing: ``a -> [b, c]``, ``restart(max = 5)``, ``[1, 2]``."""
    out: list[str] = []
    prev: Token | None = None
    for i, tok in enumerate(tokens):
        t = tok.type
        nxt = tokens[i + 1].type if i + 1 < len(tokens) else None
        if t == "COMMA" and nxt in ("RSQB", "RPAR"):
            continue  # a trailing comma inside brackets
        if prev is not None:
            p = prev.type
            tight = (p in ("LSQB", "LPAR") or t in ("RSQB", "RPAR", "COMMA")
                     or (t == "LPAR" and p == "NAME"))
            if not tight:
                out.append(" ")
        out.append(str(tok))
        prev = tok
    return "".join(out)


def _one_line(attrs: list[_Attr]) -> str:
    if not attrs:
        return "{ }"
    return "{ " + ", ".join(f"{a.name} = {_join(a.value)}" for a in attrs) + " }"


def _many_lines(attrs: list[_Attr], closing: list[str]) -> list[str]:
    lines = ["{"]
    for a in attrs:
        lines += [f"    {c}" for c in a.before]
        line = f"    {a.name} = {_join(a.value)},"
        lines.append(f"{line}  {a.trailing}" if a.trailing else line)
    lines += [f"    {c}" for c in closing]
    lines.append("}")
    return lines


def _place_comments(st: _Statement, attrs: list[_Attr], block: int) -> list[str] | None:
    """Put each inner comment above or after an attribute; None if one fits nowhere."""
    closing: list[str] = []
    opener = st.tokens[block]
    last_on_line: dict[int, Token] = {}
    for tok in st.tokens:
        last_on_line[_line(tok)] = tok
    for c in st.inner:
        if c.line < _line(opener):
            return None  # inside the head (a chain over several lines)
        on_line = last_on_line.get(c.line)
        if on_line is None or on_line is opener:
            following = [a for a in attrs
                         if _line(a.name) > c.line or (on_line is opener and _line(a.name) == c.line)]
            (following[0].before if following else closing).append(c.text)
            continue
        owner = next((a for a in attrs if a.value and (a.value[-1] is on_line or _comma_after(st.tokens, a, on_line))),
                     None)
        if owner is None or owner.trailing is not None:
            return None
        owner.trailing = c.text
    return closing


def _comma_after(tokens: list[Token], attr: _Attr, tok: Token) -> bool:
    if tok.type != "COMMA" or not attr.value:
        return False
    i = next(i for i, t in enumerate(tokens) if t is attr.value[-1])
    return i + 1 < len(tokens) and tokens[i + 1] is tok


def _render(st: _Statement, lines: list[str], prefix: str | None) -> list[str]:
    """The statement's lines; ``prefix`` replaces the head (aligned node declarations)."""
    block = _block_start(st.tokens)
    head = prefix if prefix is not None else _join(st.tokens[:block] if block is not None else st.tokens)
    if block is None:
        if st.inner:
            return _verbatim(st, lines)
        return [_with_trailing(head, st.trailing)]
    inner = st.tokens[block + 1:-1] if st.tokens[-1].type == "RBRACE" else st.tokens[block + 1:]
    attrs = _attrs(inner)
    closing: list[str] = []
    if st.inner:
        placed = _place_comments(st, attrs, block)
        if placed is None:
            return _verbatim(st, lines)
        closing = placed
    one = _one_line(attrs)
    if not st.inner and len(one) <= WIDTH:
        return [_with_trailing(f"{head} {one}", st.trailing)]
    body = _many_lines(attrs, closing)
    body[0] = f"{head} {body[0]}"
    body[-1] = _with_trailing(body[-1], st.trailing)
    return body


def _render_run(run: list[_Statement], lines: list[str]) -> list[str]:
    """Node declarations aligned as the graph formatter aligns them."""
    kind_w = max(len(str(st.tokens[0])) for st in run)
    name_w = max(len(str(st.tokens[1])) for st in run)
    out: list[str] = []
    for st in run:
        kind, name = str(st.tokens[0]).ljust(kind_w), str(st.tokens[1])
        if len(st.tokens) == 2:
            out.append(_with_trailing(f"{kind} {name}", st.trailing))
        else:
            out.extend(_render(st, lines, f"{kind} {name.ljust(name_w)}"))
    return out


def _with_trailing(line: str, comment: str | None) -> str:
    return f"{line}  {comment}" if comment else line


def _verbatim(st: _Statement, lines: list[str]) -> list[str]:
    chunk = [ln.rstrip() for ln in lines[st.first - 1:st.last]]
    chunk[0] = chunk[0].lstrip()
    return chunk
