"""Diagnostics: what is wrong, where, and how to fix it."""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

Severity = Literal["error", "warning", "info"]

__all__ = [
    "MAX_DIAGNOSTICS",
    "Diagnostic",
    "Severity",
    "Span",
    "close_match",
    "did_you_mean",
    "limit",
    "render_text",
    "sort_key",
]

MAX_DIAGNOSTICS = 100
MAX_MESSAGE = 400  # characters of a message or hint
SNIPPET_WIDTH = 120  # characters of a source line shown under a diagnostic


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based source range (end column is exclusive)."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    @classmethod
    def of_token(cls, tok: Any) -> "Span":
        return cls(tok.line, tok.column, tok.end_line, tok.end_column)

    @classmethod
    def between(cls, first: Any, last: Any) -> "Span":
        """From the start of token ``first`` to the end of token ``last``."""
        return cls(first.line, first.column, last.end_line, last.end_column)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem: a code, a severity, a message, a position and a hint."""

    code: str
    severity: Severity
    message: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None
    hint: str | None = None
    node: str | None = None
    edge: tuple[str, str] | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Bounded whatever the input: a message quotes names and values, which hostile
        # input can make megabytes long.
        for name in ("message", "hint"):
            text = getattr(self, name)
            if text is not None and len(text) > MAX_MESSAGE:
                object.__setattr__(self, name, text[: MAX_MESSAGE - 3] + "...")

    @classmethod
    def at(
        cls,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        severity: Severity = "error",
        hint: str | None = None,
        node: str | None = None,
        edge: tuple[str, str] | None = None,
    ) -> "Diagnostic":
        if span is None:
            return cls(code, severity, message, hint=hint, node=node, edge=edge)
        return cls(
            code, severity, message, span.line, span.column, span.end_line,
            span.end_column, hint, node, edge,
        )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self, filename: str = "<udgl>") -> str:
        if self.line is None:
            return filename
        return f"{filename}:{self.line}:{self.column}"

    def snippet(self, source: str | None, lines: list[str] | None = None) -> str:
        """The source line with a caret under the problem (empty without source).

        ``lines`` is ``source.split("\\n")`` when the caller already has it.
        """
        if source is None or self.line is None:
            return ""
        text = _source_line(source, self.line) if lines is None else (
            lines[self.line - 1] if 1 <= self.line <= len(lines) else None)
        if text is None:
            return ""
        text = text.rstrip("\r")
        col = max(1, self.column or 1)
        width = 1
        if self.end_line == self.line and self.end_column and self.end_column > col:
            width = self.end_column - col
        if len(text) > SNIPPET_WIDTH:  # a long line is cut around the column
            start = max(0, min(col - 1 - SNIPPET_WIDTH // 3, len(text) - SNIPPET_WIDTH))
            text = ("..." if start else "") + text[start:start + SNIPPET_WIDTH] + (
                "..." if start + SNIPPET_WIDTH < len(text) else "")
            col = col - start + (3 if start else 0)
        text = text.replace("\t", " ")
        width = max(1, min(width, len(text) - col + 1))
        gutter = f"{self.line:>4} | "
        return f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {' ' * (col - 1)}{'^' * width}"

    def format(
        self, source: str | None = None, filename: str = "<udgl>", lines: list[str] | None = None
    ) -> str:
        head = f"{self.location(filename)}: {self.severity}[{self.code}]: {self.message}"
        parts = [head]
        snip = self.snippet(source, lines)
        if snip:
            parts.append(snip)
        if self.hint:
            parts.append(f"     = hint: {self.hint}")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
            "node": self.node,
            "edge": list(self.edge) if self.edge else None,
        }


def _source_line(source: str, line: int) -> str | None:
    """Line ``line`` (1-based) of ``source``, found without splitting all of it."""
    if line < 1:
        return None
    start = 0
    for _ in range(line - 1):
        start = source.find("\n", start) + 1
        if start == 0:
            return None
    end = source.find("\n", start)
    return source[start:] if end < 0 else source[start:end]


def sort_key(d: Diagnostic) -> tuple[bool, int, int, str]:
    return (d.line is None, d.line or 0, d.column or 0, d.code)


def render_text(
    diagnostics: Iterable[Diagnostic], source: str | None = None, filename: str = "<udgl>"
) -> str:
    diags = sorted(diagnostics, key=sort_key)
    lines = source.split("\n") if source is not None else None
    body = "\n".join(d.format(source, filename, lines) for d in diags)
    n_err = sum(d.is_error for d in diags)
    n_warn = sum(d.severity == "warning" for d in diags)
    summary = f"{n_err} error{'s' * (n_err != 1)}"
    if n_warn:
        summary += f", {n_warn} warning{'s' * (n_warn != 1)}"
    return f"{body}\n{summary}" if body else summary


MAX_SUGGESTION_POOL = 2_000  # names compared for a suggestion (bounded cost per diagnostic)


def close_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (a typo of it), or None when nothing is close."""
    if not isinstance(word, str) or len(word) > 200:
        return None
    pool = sorted(set(itertools.islice(choices, MAX_SUGGESTION_POOL)))
    matches = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in pool}
        if word.lower() in lowered:
            matches = [lowered[word.lower()]]
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean `x`?" hint, or None when nothing is close."""
    match = close_match(word, choices)
    return f"did you mean `{match}`?" if match is not None else None


def limit(diagnostics: list[Diagnostic], most: int = MAX_DIAGNOSTICS) -> list[Diagnostic]:
    """The first ``most`` diagnostics, plus one saying how many more there were."""
    if len(diagnostics) <= most:
        return diagnostics
    rest = len(diagnostics) - most
    return [*diagnostics[:most], Diagnostic(
        "E006", "error", f"{rest} more problem{'s' * (rest != 1)} not shown",
        hint="fix the ones above and check again",
    )]
