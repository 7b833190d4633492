"""UDGL tokens, one at a time, with their positions; comments kept apart.

Hand-written over one compiled regular expression rather than lark's lexer, which
stops at the first bad character and yields no comments: this one skips a bad
character with a diagnostic and goes on, keeps memory flat on any input (a
generator), hands the formatter the comments, and joins ``5 seconds`` into one
number with a "write `5s`" diagnostic so the rest of the statement still parses.
The tokens are lark ``Token`` objects, as the parser expects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterator

from lark import Token

from ..diagnostics import Diagnostic, Span
from ..values import NAME_LIMIT, STRING_LIMIT

__all__ = ["Comment", "MAX_LEX_ERRORS", "TokenStream", "UNIT_WORDS", "tokenize"]

MAX_LEX_ERRORS = 50

_TOKEN = re.compile(
    r"""
    (?P<NL>\r?\n)
    | (?P<WS>[ \t\f\r]+)
    | (?P<COMMENT>\#[^\n]*)
    | (?P<STRING>"[^"\\\n]*(?:\\.[^"\\\n]*)*")
    | (?P<PARAM>\$[A-Za-z_][A-Za-z0-9_]*)
    | (?P<NUMBER>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[A-Za-z%]*)
    | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<ARROW>->)
    | (?P<CMP>>=|<=|==|!=|>|<)
    | (?P<EQUAL>=) | (?P<COMMA>,)
    | (?P<LBRACE>\{) | (?P<RBRACE>\}) | (?P<LSQB>\[) | (?P<RSQB>\]) | (?P<LPAR>\() | (?P<RPAR>\))
    """,
    re.X,
)

#: words people write after a number, and the unit UDGL spells for them
UNIT_WORDS: dict[str, str] = {
    **{w: "us" for w in ("us", "usec", "usecs", "microsecond", "microseconds", "µs")},
    **{w: "ms" for w in ("ms", "msec", "msecs", "millisecond", "milliseconds", "millis")},
    **{w: "s" for w in ("s", "sec", "secs", "second", "seconds")},
    **{w: "m" for w in ("m", "min", "mins", "minute", "minutes")},
    **{w: "h" for w in ("h", "hr", "hrs", "hour", "hours")},
    **{w: "B" for w in ("b", "byte", "bytes")},
    **{w.lower(): w for w in ("KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB")},
    "k": "KB", "kib": "KiB", "mib": "MiB", "gib": "GiB", "tib": "TiB",
    "percent": "%", "pct": "%",
}
_DURATION_UNITS = {"us", "ms", "s", "m", "h"}


# lark's Token() looks for a deprecated keyword argument on every call, much of the
# cost of making a token; the constructor behind it is called directly where lark has it
_new_token = getattr(Token, "_future_new", Token)

_LONGEST = {"NAME": NAME_LIMIT, "PARAM": NAME_LIMIT + 1, "STRING": STRING_LIMIT + 2}  # the `$`, the quotes
_SHOWN_LIMIT = {"NAME": NAME_LIMIT, "PARAM": NAME_LIMIT, "STRING": STRING_LIMIT}
_ESCAPED = 12  # the most characters one character of a string's value takes spelled (\\uXXXX\\uXXXX)


def _string_length(token: str) -> int:
    """How many characters the string ``token`` holds, escapes read: the limit is on
    the value, so a string of quotes or unprintable characters, spelled longer, still
    fits. Past ``_ESCAPED`` times the limit no value can fit, and nothing is decoded."""
    if len(token) > _ESCAPED * STRING_LIMIT + 2:
        return len(token) - 2
    try:
        return len(json.loads(token))
    except ValueError:  # an escape JSON does not know: the parser reports it
        return len(token) - 2


def _too_long(kind: str, value: str, most: int, line: int, column: int, diags: list[Diagnostic],
              length: int | None = None) -> str:
    """Report a name or string past its length limit; keep a cut copy so that messages
    quoting it stay short."""
    what = "a string" if kind == "STRING" else "a name"
    length = len(value) if length is None else length
    diags.append(Diagnostic.at(
        "E008", f"{what} of {length:,} characters is too long (at most {_SHOWN_LIMIT[kind]:,})",
        Span(line, column, line, column + 1), hint="shorten it",
    ))
    return value[: most - 1] + '"' if kind == "STRING" else value[:most]


@dataclass(frozen=True, slots=True)
class Comment:
    """A ``# ...`` comment: its line, column and text (with the ``#``)."""

    line: int
    column: int
    text: str


class TokenStream:
    """The tokens of a text, newlines included (an iterator), with a fast way past a
    statement the reader has given up on (:meth:`skip_statement`)."""

    def __init__(self, text: str, diags: list[Diagnostic], comments: list[Comment] | None,
                 first_line: int = 1) -> None:
        self._skip: int | None = None
        self._tokens = _join_units(_raw_tokens(text, diags, comments, self, first_line), diags)

    def __iter__(self) -> Iterator[Token]:
        return self._tokens

    def __next__(self) -> Token:
        return next(self._tokens)

    def skip_statement(self, depth: int) -> None:
        """Read on without making tokens to the newline that ends the current statement
        (``depth`` brackets are open); bracket counts are all it looks at."""
        self._skip = depth


def tokenize(
    text: str, diags: list[Diagnostic], comments: list[Comment] | None = None, first_line: int = 1,
) -> TokenStream:
    """Every token of ``text``, newlines included; bad characters become diagnostics.
    Lines count from ``first_line`` (the text's place in a longer one)."""
    return TokenStream(text, diags, comments, first_line)


def _skip_to_end(text: str, pos: int, depth: int, line: int) -> tuple[int, int]:
    """Where the statement at ``pos`` ends (its newline, or the end) and that line's
    number: brackets are counted a line at a time, at the speed of ``str.count``."""
    while True:
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        seg = text[pos:end]
        depth += sum(seg.count(c) for c in "[{(") - sum(seg.count(c) for c in "]})")
        if nl < 0 or depth <= 0:
            return end, line
        pos, line = nl + 1, line + 1


def _raw_tokens(
    text: str, diags: list[Diagnostic], comments: list[Comment] | None, stream: TokenStream | None = None,
    first_line: int = 1,
) -> Iterator[Token]:
    match = _TOKEN.match
    pos, line, line_start, n = 0, first_line, 0, len(text)
    errors = 0
    while pos < n:
        if stream is not None and stream._skip is not None:
            pos, line = _skip_to_end(text, pos, stream._skip, line)
            stream._skip = None
            line_start = text.rfind("\n", 0, pos) + 1
            continue
        m = match(text, pos)
        column = pos - line_start + 1
        if m is None:
            end = _bad_input(text, pos, line, column, diags, errors)
            errors += 1
            if errors > MAX_LEX_ERRORS:
                return
            pos = end
            continue
        kind = m.lastgroup
        assert kind is not None  # every alternative of the pattern is a named group
        end = m.end()
        if kind == "NL":
            yield _new_token("NL", m.group(), pos, line, column, line, column + 1, end)
            line += 1
            line_start = end
        elif kind == "COMMENT":
            if comments is not None:
                comments.append(Comment(line, column, m.group().rstrip("\r")))
        elif kind != "WS":
            value = m.group()
            most = _LONGEST.get(kind)
            if most is not None and len(value) > most:
                if kind != "STRING":
                    value = _too_long(kind, value, most, line, column, diags)
                elif (length := _string_length(value)) > STRING_LIMIT:
                    value = _too_long(kind, value, most, line, column, diags, length)
            yield _new_token(kind, value, pos, line, column, line, column + (end - pos), end)
        pos = end


def _bad_input(text: str, pos: int, line: int, column: int, diags: list[Diagnostic], errors: int) -> int:
    """Report the bad character at ``pos`` (once the cap is reached, only a final note);
    return where to go on reading."""
    ch = text[pos]
    span = Span(line, column, line, column + 1)
    if ch == '"':
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        diag = Diagnostic.at(
            "E002", "unterminated string", span,
            hint='close it with `"` on the same line; write \\" for a quote inside',
        )
    else:
        end = pos + 1
        shown = repr(ch) if not ch.isprintable() or ch.isspace() else f"`{ch}`"
        diag = Diagnostic.at(
            "E002", f"unexpected character {shown}", span,
            hint="names use letters, digits and _; strings go in double quotes",
        )
    if errors < MAX_LEX_ERRORS:
        diags.append(diag)
    elif errors == MAX_LEX_ERRORS:
        diags.append(Diagnostic.at("E006", "too many unexpected characters; stopped reading", span,
                                   hint="is this a UDGL file?"))
    return end


def _join_units(tokens: Iterator[Token], diags: list[Diagnostic]) -> Iterator[Token]:
    """``5 seconds``, ``4 GB``: a number, a space and a unit word that is not the next
    attribute's name (no ``=`` or ``(`` after it) is one mistake, reported once, and
    read as the number with its unit so the statement goes on parsing."""
    held: list[Token] = []  # at most: NUMBER, NAME
    for tok in tokens:
        if not held:
            if _bare(tok):
                held.append(tok)
            else:
                yield tok
            continue
        if len(held) == 1:
            word = str(tok).lower() if tok.type == "NAME" else None
            if word in UNIT_WORDS and tok.line == held[0].line:
                held.append(tok)
                continue
            yield held.pop()
            if _bare(tok):
                held.append(tok)
            else:
                yield tok
            continue
        number, word = held
        held.clear()
        if tok.type in ("EQUAL", "LPAR"):  # `{ batch = 2 s = 3 }`: `s` names the next attribute
            yield number
            yield word
            yield tok
            continue
        yield _unit_mistake(number, word, diags)
        if _bare(tok):
            held.append(tok)
        else:
            yield tok
    if len(held) == 2:
        yield _unit_mistake(held[0], held[1], diags)
    else:
        yield from held


def _bare(tok: Token) -> bool:
    """A number with no unit written after it."""
    return tok.type == "NUMBER" and (tok.value[-1].isdigit() or tok.value[-1] == ".")


def _unit_mistake(number: Token, word: Token, diags: list[Diagnostic]) -> Token:
    unit = UNIT_WORDS[str(word).lower()]
    joined = f"{number}{unit}"
    examples = "ms, s, m, ..." if unit in _DURATION_UNITS else ("%" if unit == "%" else "KiB, MiB, GiB, ...")
    diags.append(Diagnostic.at(
        "E021", f"`{number} {word}` is not a value: a unit follows its number without a space",
        Span.between(number, word),
        hint=f"write `{joined}`: units follow the number without a space ({examples})",
    ))
    return Token("NUMBER", joined, number.start_pos, number.line, number.column,
                 word.end_line, word.end_column, word.end_pos)
