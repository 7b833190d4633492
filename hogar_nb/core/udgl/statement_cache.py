"""Parsing the same text again after a small change: statements read once are reused.

An editor lints its text after every pause in typing; between two lints most
statements are unchanged. :class:`StatementCache` cuts the text into the pieces the
parser would read as statements, and parses only the pieces it has not seen at that
line; the others come back as they were parsed before, with their diagnostics.

A piece ends at a newline outside brackets (brackets in strings and comments do not
count), exactly where :func:`~.grammar.parse_statements` ends a statement: the
parser's bracket stack is never deeper than the one counted here, so where this one
is empty the parser's is too, and a piece parsed alone reads as it does in the whole
text. Whatever the per-text limits could change (too many statements, problems or
bad characters, a statement past the token limit, brackets past the depth limit),
the whole text is parsed as one instead.

The records are shared between parses: callers must not change them (the builder
does not). Tokens' character offsets count from their piece's first line.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from ..diagnostics import MAX_DIAGNOSTICS, Diagnostic
from .grammar import MAX_DEPTH, MAX_STATEMENT_TOKENS, MAX_STATEMENTS, parse_statements
from .lexer import MAX_LEX_ERRORS
from .transform import Record

__all__ = ["StatementCache"]

# what moves the parser's bracket stack: brackets outside strings and comments (an
# unterminated string runs to the end of its line, as the lexer skips it)
_BRACKETS = re.compile(r'"(?:[^"\\\n]|\\.)*"|"[^\n]*|#[^\n]*|[\[\]{}()]')
_CLOSER = {"]": "[", "}": "{", ")": "("}
_TOO_DEEP = ("too deep",)

Stack = tuple[str, ...]
Entry = tuple[list[Record], list[Diagnostic], frozenset[str]]


def _stack_after(stack: Stack, line: str) -> Stack:
    """The parser's bracket stack after ``line`` (a closer pops only its own opener)."""
    if not any(c in line for c in '[]{}()"#'):
        return stack
    out = list(stack)
    for m in _BRACKETS.finditer(line):
        c = m.group()
        if c in "[{(":
            out.append(c)
            if len(out) > MAX_DEPTH:
                return _TOO_DEEP
        elif c in _CLOSER:
            if out and out[-1] == _CLOSER[c]:
                out.pop()
    return tuple(out)


class StatementCache:
    """Statements parsed before, by their text and first line: the ``most`` used last
    (a few kilobytes each)."""

    def __init__(self, most: int = 20_000) -> None:
        self.most = most
        self._pieces: OrderedDict[tuple[str, int], Entry] = OrderedDict()
        self._stacks: dict[tuple[Stack, str], Stack] = {}
        self._lock = threading.Lock()  # the lint endpoint's worker threads share one cache
        self.parsed = 0  # pieces parsed (not found), for tests and benchmarks

    def parse(self, text: str, diags: list[Diagnostic], broken: set[str]) -> list[Record]:
        """What :func:`~.grammar.parse_statements` returns for ``text``, reusing pieces."""
        with self._lock:
            return self._parse(text, diags, broken)

    def _parse(self, text: str, diags: list[Diagnostic], broken: set[str]) -> list[Record]:
        pieces = self._pieces_of(text)
        if pieces is None:
            return parse_statements(text, diags, broken)
        records: list[Record] = []
        found: list[Diagnostic] = []
        names: set[str] = set()
        known = self._pieces
        for first, piece in pieces:
            entry = known.get((piece, first))
            if entry is None:
                piece_diags: list[Diagnostic] = []
                piece_broken: set[str] = set()
                entry = (parse_statements(piece, piece_diags, piece_broken, first_line=first),
                         piece_diags, frozenset(piece_broken))
                self.parsed += 1
                known[(piece, first)] = entry
                while len(known) > self.most:
                    known.popitem(last=False)  # the one used longest ago
            else:
                known.move_to_end((piece, first))
            records.extend(entry[0])
            found.extend(entry[1])
            names.update(entry[2])
        if (len(records) >= MAX_STATEMENTS or sum(d.is_error for d in found) + sum(d.is_error for d in diags)
                >= MAX_DIAGNOSTICS or sum(d.code == "E002" for d in found) >= MAX_LEX_ERRORS):
            return parse_statements(text, diags, broken)  # a limit may apply: read it whole
        diags.extend(found)
        broken.update(names)
        return records

    def _pieces_of(self, text: str) -> list[tuple[int, str]] | None:
        """``(first line, text)`` of each piece, or None when the text must be read whole."""
        lines = text.split("\n")
        if len(self._stacks) >= self.most:
            self._stacks.clear()
        pieces: list[tuple[int, str]] = []
        stack: Stack = ()
        start = 0
        for i, line in enumerate(lines):
            key = (stack, line)
            after = self._stacks.get(key)
            if after is None:
                after = self._stacks[key] = _stack_after(stack, line)
            if after is _TOO_DEEP:
                return None
            stack = after
            if not stack:
                piece = line if start == i else "\n".join(lines[start:i + 1])
                pieces.append((start + 1, piece))
                start = i + 1
        if start < len(lines):  # brackets left open: the rest reads as the parser reads it
            pieces.append((start + 1, "\n".join(lines[start:])))
        if any(len(piece) > MAX_STATEMENT_TOKENS for _, piece in pieces):
            return None
        return pieces
