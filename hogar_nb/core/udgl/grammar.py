"""The UDGL v1 grammar (lark, LALR) and the splitter that feeds it one statement at a time.

Statements are generic on purpose (``NAME NAME { attrs }``, ``NAME attrs``...): the
builder decides what ``graph``, ``param`` or ``python`` mean, so a node may be named
like a keyword and a misspelt keyword gets a did-you-mean instead of a syntax error.
Feeding statements one by one lets the parser report every bad statement in one pass.
"""

from __future__ import annotations

import functools
from typing import Iterator

from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..diagnostics import MAX_DIAGNOSTICS, Diagnostic, Span
from .lexer import tokenize
from .salvage import salvage

__all__ = ["GRAMMAR", "MAX_STATEMENTS", "parse_statements", "parse_value_tree"]

MAX_STATEMENTS = 20_000  # declarations and edge statements a text may hold
MAX_STATEMENT_TOKENS = 50_000
MAX_VALUE_CHARS = 100_000

GRAMMAR = r"""
statement: NAME NAME STRING                    -> s_named
         | NAME NAME attrs?                    -> s_decl
         | NAME NAME EQUAL value               -> s_assign
         | NAME NAME EQUAL NAME attrs          -> s_template
         | NAME attrs                          -> s_block
         | endpoint (ARROW endpoint)+ attrs?   -> s_chain

endpoint: NAME                                 -> one
        | LSQB NAME (COMMA NAME)* COMMA? RSQB  -> group

attrs: LBRACE (attr COMMA?)* RBRACE
attr: NAME EQUAL value

value_only: value
newline: NL
?value: NUMBER                                 -> number
      | STRING                                 -> string
      | NAME                                   -> ident
      | PARAM                                  -> param
      | LSQB [value (COMMA value)* COMMA?] RSQB -> list
      | NAME LPAR [kwarg (COMMA kwarg)* COMMA?] RPAR -> call
      | NAME LPAR NAME (COMMA NAME)* RPAR CMP value -> compare
      | NAME LSQB [value (COMMA value)* COMMA?] RSQB -> shaped
kwarg: NAME EQUAL value

ARROW: "->"
CMP: />=|<=|==|!=|>|</
EQUAL: "="
COMMA: ","
LBRACE: "{"
RBRACE: "}"
LSQB: "["
RSQB: "]"
LPAR: "("
RPAR: ")"
PARAM: /\$[A-Za-z_][A-Za-z0-9_]*/
NAME: /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/
NUMBER: /[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[A-Za-z%]*/
STRING: /"([^"\\\n]|\\.)*"/
NL: /\r?\n/
COMMENT: /#[^\n]*/
%ignore COMMENT
%ignore /[ \t\f\r]+/
"""

_WORDS = {
    "NAME": "a name",
    "ARROW": "`->`",
    "EQUAL": "`=`",
    "CMP": "a comparison (`>`, `>=`, `<`, `<=`, `==`, `!=`)",
    "COMMA": "`,`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "PARAM": "a `$param`",
    "NUMBER": "a number",
    "STRING": "a string",
    "NL": "the end of the line",
    "$END": "the end of the statement",
}
_OPEN = {"LBRACE": "RBRACE", "LSQB": "RSQB", "LPAR": "RPAR"}
_CLOSE = {v: k for k, v in _OPEN.items()}
MAX_DEPTH = 32  # brackets nested deeper than this are refused (no RecursionError, ever)


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    from .transform import StatementTransformer

    # The transformer runs inside the LALR parser's reductions: no parse tree is built.
    return Lark(
        GRAMMAR, parser="lalr", lexer="basic", start=["statement", "value_only", "newline"],
        propagate_positions=False, maybe_placeholders=True, transformer=StatementTransformer(),
    )


def _describe_token(tok: Token) -> str:
    if tok.type in ("NL", "$END"):
        return "end of line"
    text = str(tok)
    if len(text) > 30:
        text = text[:27] + "..."
    return f"`{text}`"


def _expected_words(expected: set[str]) -> str:
    words = sorted({_WORDS.get(e, e) for e in expected if e not in ("NL",)})
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _declared_name(group: list[Token]) -> str | None:
    """The NAME a broken statement was declaring (``KIND NAME ...``), if any."""
    if len(group) >= 2 and group[0].type == "NAME" and group[1].type == "NAME":
        return str(group[1])
    return None


def _split(tokens: Iterator[Token], diags: list[Diagnostic], broken: set[str]) -> Iterator[list[Token]]:
    """Group tokens into statements: a newline ends one unless a bracket is open."""
    group: list[Token] = []
    stack: list[Token] = []
    too_deep = False  # the statement is dropped (too deep or too long); read on to its end
    extra = 0  # brackets open past MAX_DEPTH
    ahead: list[Token] = []  # tokens read to look past a newline, not yet handled
    stream = iter(tokens)

    def skip(depth: int) -> None:
        """Give up on the statement: the lexer reads on to its end without making tokens."""
        if hasattr(tokens, "skip_statement") and not ahead:
            tokens.skip_statement(depth)

    def next_token() -> Token | None:
        if ahead:
            return ahead.pop(0)
        return next(stream, None)

    while (tok := next_token()) is not None:
        t = tok.type
        if t == "NL":
            if not stack:
                if too_deep:
                    broken.add(_declared_name(group) or "")
                elif group:
                    yield group
                group = []
                too_deep = False
                extra = 0
                continue
            if stack[-1].type == "LBRACE" and _next_line_is_a_statement(stream, ahead):
                opener = stack[0]
                closer = {"LBRACE": "}", "LSQB": "]", "LPAR": ")"}[opener.type]
                diags.append(Diagnostic.at(
                    "E003", f"`{opener}` opened here is never closed", Span.of_token(opener),
                    hint=f"add `{closer}` before the end of the statement",
                ))
                stack.clear()
                if not too_deep:
                    yield _Unclosed(group)  # reported: only salvaged, not parsed again
                group = []
                too_deep = False
                extra = 0
            continue
        if t in _OPEN:
            if too_deep:
                extra += 1  # counted, not kept: memory stays flat however deep it goes
                continue
            stack.append(tok)
            if len(stack) == MAX_DEPTH + 1:
                diags.append(Diagnostic.at(
                    "E005", f"brackets nested more than {MAX_DEPTH} deep", Span.of_token(tok),
                    hint="flatten the value",
                ))
                too_deep = True
                skip(len(stack))
                stack.clear()
        elif t in _CLOSE and extra:
            extra -= 1
            continue
        elif t in _CLOSE and stack and stack[-1].type == _CLOSE[t]:
            stack.pop()
        if too_deep:
            continue  # the statement is dropped: keep no more tokens of it
        if len(group) >= MAX_STATEMENT_TOKENS:
            diags.append(Diagnostic.at(
                "E007", f"a statement of more than {MAX_STATEMENT_TOKENS:,} tokens", Span.of_token(group[0]),
                hint="split it into several statements",
            ))
            too_deep = True
            skip(len(stack) + (tok.type in _OPEN) - (tok.type in _CLOSE))
            stack.clear()
            continue
        group.append(tok)
    if stack:
        opener = stack[0]
        diags.append(Diagnostic.at(
            "E003", f"`{opener}` opened here is never closed", Span.of_token(opener),
            hint="add the closing bracket",
        ))
        broken.add(_declared_name(group) or "")
        return
    if too_deep:
        broken.add(_declared_name(group) or "")
    elif group:
        yield group


class _Unclosed(list):
    """The tokens of a statement whose `{` was never closed (already reported)."""


def _next_line_is_a_statement(stream: Iterator[Token], ahead: list[Token]) -> bool:
    """Inside an unclosed `{`: does the next line start a new statement? (Reads up to
    two tokens past the newlines into ``ahead``.)"""
    i = 0
    while True:
        while i >= len(ahead):
            tok = next(stream, None)
            if tok is None:
                return False
            ahead.append(tok)
        if ahead[i].type != "NL":
            break
        i += 1
    while i + 1 >= len(ahead):
        tok = next(stream, None)
        if tok is None:
            return False
        ahead.append(tok)
    a, b = ahead[i], ahead[i + 1]
    return a.type == "NAME" and b.type in ("NAME", "ARROW")


def _syntax_diag(err: UnexpectedInput, first: Token) -> Diagnostic:
    tok = getattr(err, "token", None)
    expected = set(getattr(err, "expected", ()) or ())
    if isinstance(err, UnexpectedToken) and tok is not None:
        if tok.type == "$END":
            prev: Token = getattr(err, "_hogar_last", first)
            line = prev.end_line or prev.line or 1
            col = prev.end_column or prev.column or 1
            span = Span(line, col, line, col + 1)
            found = "end of line"
        else:
            span = Span.of_token(tok)
            found = _describe_token(tok)
        msg = f"unexpected {found}; expected {_expected_words(expected)}"
        hint = _syntax_hint(first, tok, expected)
        return Diagnostic.at("E001", msg, span, hint=hint)
    return Diagnostic.at("E001", "syntax error", Span.of_token(first))


def _syntax_hint(first: Token, tok: Token, expected: set[str]) -> str | None:
    if expected == {"EQUAL"} or ("EQUAL" in expected and tok.type in ("NUMBER", "STRING", "NAME")):
        return "attributes are written `name = value`"
    if tok.type == "$END" and "NAME" in expected and "LSQB" in expected:
        return "an edge needs a node after `->`"
    from ..kinds import KINDS

    if tok.type == "$END" and str(first) in KINDS:
        return f"declare a node as `{first} NAME {{ ... }}`"
    if tok.type == "$END" and first.type == "NAME" and expected >= {"NAME", "ARROW"}:
        return f"a statement is a declaration (`python {first} {{ impl = \"m:f\" }}`) or an edge (`{first} -> next`)"
    if tok.type == "$END" and expected & {"NUMBER", "STRING", "NAME", "LSQB"}:
        return "give a value after `=`"
    if tok.type == "ARROW":
        return "an edge joins names: `a -> b` or `a -> [b, c]`"
    return None


def parse_statements(
    text: str, diags: list[Diagnostic], broken: set[str] | None = None,
    comments: list | None = None, first_line: int = 1,
) -> list:
    """Parse every statement of ``text``; problems are appended to ``diags``.

    Names declared by statements that failed to parse go to ``broken``, so that later
    references to them do not report a second, misleading "unknown node". Reading
    stops (with a diagnostic) after :data:`MAX_STATEMENTS` statements or once
    :data:`MAX_DIAGNOSTICS` problems are found: the cost is bounded by those, not by
    the size of the text. Lines count from ``first_line``.
    """
    from .transform import collecting

    lark = _lark()
    statements: list = []
    broken = set() if broken is None else broken
    lex_lines: set[int] = set()
    seen = len(diags)
    for group in _split(tokenize(text, diags, comments, first_line), diags, broken):
        if isinstance(group, _Unclosed):
            declared = _declared_name(group)
            if declared:
                broken.add(declared)
            statements.append(salvage(lark, group, diags))
            continue
        if len(diags) > seen:
            lex_lines.update(d.line for d in diags[seen:] if d.code == "E002" and d.line is not None)
            seen = len(diags)
        if len(statements) >= MAX_STATEMENTS:
            diags.append(Diagnostic.at(
                "E007", f"more than {MAX_STATEMENTS:,} statements; stopped reading", Span.of_token(group[0]),
                hint="a serving graph has at most a few thousand nodes and edges",
            ))
            break
        if sum(d.is_error for d in diags) >= MAX_DIAGNOSTICS:
            diags.append(Diagnostic.at(
                "E006", f"too many problems; stopped reading at line {group[0].line}", Span.of_token(group[0]),
                hint="fix the ones above and check again",
            ))
            break
        ip = lark.parse_interactive(None, start="statement")
        try:
            with collecting(diags):
                for tok in group:
                    ip.feed_token(tok)
                record = ip.feed_eof(group[-1])
        except UnexpectedToken as err:
            if err.token.type == "$END":
                err._hogar_last = group[-1]  # type: ignore[attr-defined]
            if not lex_lines or not {t.line for t in group} & lex_lines:
                diags.append(_syntax_diag(err, group[0]))  # else it follows from a bad character
            declared = _declared_name(group)
            if declared:
                broken.add(declared)
            statements.append(salvage(lark, group, diags))
            continue
        except LarkError as err:  # pragma: no cover - lark internals
            diags.append(Diagnostic.at("E001", f"syntax error: {err}", Span.of_token(group[0])))
            continue
        statements.append(record)
    return statements


def parse_value_tree(text: str, diags: list[Diagnostic]):
    """Parse one UDGL value (for editors and ``--param k=v``); None on error."""
    if len(text) > MAX_VALUE_CHARS:
        diags.append(Diagnostic.at("E007", f"a value of {len(text):,} characters is too long",
                                   Span(1, 1, 1, 2), hint=f"values are at most {MAX_VALUE_CHARS:,} characters"))
        return None
    tokens = [t for t in tokenize(text, diags) if t.type != "NL"]
    depth = 0
    for t in tokens:
        depth += (t.type in _OPEN) - (t.type in _CLOSE)
        if depth > MAX_DEPTH:
            diags.append(Diagnostic.at("E005", f"brackets nested more than {MAX_DEPTH} deep",
                                       Span.of_token(t), hint="flatten the value"))
            break
    if diags:
        return None
    if not tokens:
        diags.append(Diagnostic.at("E001", "empty value", Span(1, 1, 1, 2), hint="give a value such as 3, 250ms or \"text\""))
        return None
    from .transform import collecting

    ip = _lark().parse_interactive(None, start="value_only")
    try:
        with collecting(diags):
            for tok in tokens:
                ip.feed_token(tok)
            return ip.feed_eof(tokens[-1])
    except UnexpectedToken as err:
        if err.token.type == "$END":
            err._hogar_last = tokens[-1]  # type: ignore[attr-defined]
        diags.append(_syntax_diag(err, tokens[0]))
        return None
