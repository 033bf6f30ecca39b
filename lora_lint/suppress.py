"""`# lora-lint: ignore[LL012]` comments.

At the end of a line it covers diagnostics that start on that line. Alone on a line it covers the node that
starts on the next line (a key with its whole value, or a list item) and everything inside it.
"""

from __future__ import annotations

import bisect
import heapq
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
    inside_string = _StringSpans(root)
    node_starts = _node_starts(root) if root else {}
    next_code_line = _next_code_lines(lines)
    suppressions: list[Suppression] = []
    problems: list[Diagnostic] = []
    for index, line in enumerate(lines):
        if "lora-lint" not in line:
            continue  # a plain substring search first: the regex is slow on very long lines
        for match in _COMMENT.finditer(line):
            comment = Span(Position(index + 1, match.start() + 1), Position(index + 1, match.end() + 1))
            if inside_string.contains(comment):
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
            following = next_code_line[index + 1] if own_line else None
            covers = node_starts.get(following + 1) if following is not None else None
            if covers is None:
                covers = Span(Position(index + 1, 1), Position(index + 1, len(line) + 1))
            suppressions.append(Suppression(comment, codes, covers))
    return suppressions, problems


class _StringSpans:
    """Whether a span lies inside a scalar: scalar spans sorted by start, with the furthest end reached so far, so
    each question is one binary search (a file may hold thousands of comments and of scalars)."""

    def __init__(self, root: Node | None) -> None:
        spans = sorted((node.span for node in root.walk() if node.kind == "scalar"),
                       key=lambda span: span.start) if root else []
        self.starts = [span.start for span in spans]
        self.furthest_end: list[Position] = []
        for span in spans:
            self.furthest_end.append(max(span.end, self.furthest_end[-1]) if self.furthest_end else span.end)

    def contains(self, span: Span) -> bool:
        last = bisect.bisect_right(self.starts, span.start) - 1
        return last >= 0 and self.furthest_end[last] >= span.end


def _next_code_lines(lines: list[str]) -> list[int | None]:
    """For each line index, the index of the first line from there on that is neither blank nor a comment."""
    following: list[int | None] = [None] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        stripped = lines[index].strip()
        following[index] = index if stripped and not stripped.startswith("#") else following[index + 1]
    return following


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


def apply_suppressions(diagnostics: list[Diagnostic], suppressions: list[Suppression]) -> list[Diagnostic]:
    """Drop the diagnostics a suppression covers; the first covering suppression (in file order) is marked used.
    One sweep per rule code over diagnostics and covered spans in position order, with a heap of the suppressions
    open at the current position (keyed by file order): O((d + s) log s), where 10,000 comments would otherwise
    cost 10,000 x 10,000 span checks."""
    by_code: dict[str, list[int]] = {}
    for order, suppression in enumerate(suppressions):
        for code in suppression.codes:
            by_code.setdefault(code, []).append(order)
    suppressed: set[int] = set()
    for code, orders in by_code.items():
        opening = sorted(orders, key=lambda order: suppressions[order].covers.start)
        wanted = sorted((d.span.start, position) for position, d in enumerate(diagnostics) if d.code == code)
        open_now: list[int] = []
        next_opening = 0
        for point, position in wanted:
            while next_opening < len(opening) and suppressions[opening[next_opening]].covers.start <= point:
                heapq.heappush(open_now, opening[next_opening])
                next_opening += 1
            while open_now and suppressions[open_now[0]].covers.end < point:
                heapq.heappop(open_now)  # closed before this point, so before every later one
            if open_now:
                suppressions[open_now[0]].used.add(code)
                suppressed.add(position)
    return [d for position, d in enumerate(diagnostics) if position not in suppressed]


def unused_suppressions(suppressions: list[Suppression], checked_codes: set[str]) -> list[Diagnostic]:
    """Suppressions of rules that ran on this file and found nothing there."""
    return [
        Diagnostic("LL005", f"`{written}` suppresses nothing here", s.comment,
                   help="remove it, or move it to the line the diagnostic is reported on")
        for s in suppressions
        for code, written in s.codes.items()
        if code not in s.used and code in checked_codes
    ]
