"""`# lora-lint: ignore[LL012]` comments.

At the end of a line it covers diagnostics that start on that line. Alone on a line it covers the node that
starts on the next line (a key with its whole value, or a list item) and everything inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lora_lint.diagnostics import Diagnostic, Position, Span
from lora_lint.registry import UnknownRuleError, find_rule
from lora_lint.source import Node

_COMMENT = re.compile(r"(?:^|(?<=\s))#\s*lora-lint:\s*ignore\[([^\]]*)\]")


@dataclass
class Suppression:
    comment: Span
    codes: dict[str, str]  # code -> as written
    covers: Span
    used: set[str] = field(default_factory=set)


def find_suppressions(lines: list[str], root: Node | None) -> tuple[list[Suppression], list[Diagnostic]]:
    scalar_spans = [node.span for node in root.walk() if node.kind == "scalar"] if root else []
    node_starts = _node_starts(root) if root else {}
    suppressions: list[Suppression] = []
    problems: list[Diagnostic] = []
    for index, line in enumerate(lines):
        for match in _COMMENT.finditer(line):
            comment = Span(Position(index + 1, match.start() + 1), Position(index + 1, match.end() + 1))
            if any(span.contains(comment) for span in scalar_spans):
                continue  # the text is inside a string value, not a comment
            codes: dict[str, str] = {}
            for written in filter(None, (part.strip() for part in match.group(1).split(","))):
                try:
                    codes[find_rule(written).code] = written
                except UnknownRuleError:
                    problems.append(Diagnostic(
                        "LL005", f"suppression names unknown rule `{written}`", comment,
                        help="`lora-lint rules` lists the codes and names",
                    ))
            own_line = not line[: match.start()].strip()
            covers = _next_node_span(lines, index, node_starts) if own_line else None
            if covers is None:
                covers = Span(Position(index + 1, 1), Position(index + 1, len(line) + 1))
            suppressions.append(Suppression(comment, codes, covers))
    return suppressions, problems


def _node_starts(root: Node) -> dict[int, Span]:
    """The widest node starting on each line: a mapping entry (key to end of value) or a list item."""
    starts: dict[int, Span] = {}

    def widen(span: Span) -> None:
        current = starts.get(span.start.line, span)
        starts[span.start.line] = Span(min(current.start, span.start), max(current.end, span.end))

    for node in root.walk():
        for key_node, value_node in node.pairs:
            widen(Span(key_node.span.start, max(key_node.span.end, value_node.span.end)))
        for item in node.items:
            widen(item.span)
    return starts


def _next_node_span(lines: list[str], index: int, node_starts: dict[int, Span]) -> Span | None:
    for following in range(index + 1, len(lines)):
        stripped = lines[following].strip()
        if stripped and not stripped.startswith("#"):
            return node_starts.get(following + 1)
    return None


def apply_suppressions(diagnostics: list[Diagnostic], suppressions: list[Suppression]) -> list[Diagnostic]:
    kept = []
    for diagnostic in diagnostics:
        covering = next((s for s in suppressions
                         if diagnostic.code in s.codes and s.covers.contains(
                             Span(diagnostic.span.start, diagnostic.span.start))), None)
        if covering is None:
            kept.append(diagnostic)
        else:
            covering.used.add(diagnostic.code)
    return kept


def unused_suppressions(suppressions: list[Suppression], checked_codes: set[str]) -> list[Diagnostic]:
    """Suppressions of rules that ran on this file and found nothing there."""
    return [
        Diagnostic("LL005", f"`{written}` suppresses nothing here", s.comment,
                   help="remove it, or move it to the line the diagnostic is reported on")
        for s in suppressions
        for code, written in s.codes.items()
        if code not in s.used and code in checked_codes
    ]
