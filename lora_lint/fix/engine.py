"""Apply fixes to a file's text until none is left: non-overlapping fixes per pass, a bounded number of passes."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Callable

from lora_lint.diagnostics import Applicability, Diagnostic, Edit, FileReport, Fix

# A fix can enable another (two targets renamed to the same name leave a duplicate to remove); ten rounds is far
# more than any chain the rules produce, and stops two fixes that undo each other.
MAX_PASSES = 10


def applicable(diagnostic: Diagnostic, unsafe: bool) -> bool:
    fix = diagnostic.fix
    return fix is not None and bool(fix.edits) and (unsafe or fix.applicability is Applicability.SAFE)


def select(fixes: list[Fix]) -> list[Fix]:
    """The fixes of one pass: in source order, each one whose edits touch none of an earlier one's."""
    chosen: list[Fix] = []
    taken: list[Edit] = []
    for fix in sorted(fixes, key=lambda f: (min(e.start for e in f.edits), max(e.end for e in f.edits))):
        if any(_overlap(edit, other) for edit in fix.edits for other in taken):
            continue
        chosen.append(fix)
        taken.extend(fix.edits)
    return chosen


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start == b.start:
        return True  # two insertions at one point, or an insertion where a replacement starts: order is ambiguous
    return a.start < b.end and b.start < a.end


def apply_edits(text: str, edits: list[Edit]) -> str:
    pieces, position = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        pieces.append(text[position:edit.start])
        pieces.append(edit.content)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)


@dataclass
class Pass:
    """One round of fixes: the text they were applied to, what its lint found, and the diagnostics fixed."""

    before: str
    found: list[Diagnostic]
    fixed: list[Diagnostic]

    @property
    def edits(self) -> list[Edit]:
        return [edit for d in self.fixed for edit in d.fix.edits]


@dataclass
class FixedFile:
    text: str  # the file as read, decoded
    fixed_text: str
    report: FileReport  # the lint of the fixed text: what is left
    passes: list[Pass] = field(default_factory=list)
    bom: bool = False

    @property
    def fixed(self) -> bytes:
        return (codecs.BOM_UTF8 if self.bom else b"") + self.fixed_text.encode("utf-8")

    @property
    def changed(self) -> bool:
        return self.fixed_text != self.text

    @property
    def fixed_diagnostics(self) -> list[Diagnostic]:
        return [d for p in self.passes for d in p.fixed]


def fix_text(data: bytes, report: FileReport, lint: Callable[[bytes], FileReport | None],
             unsafe: bool) -> FixedFile | None:
    """Fix `data`, whose lint is `report`, linting each result again with `lint`. None if it cannot be decoded the
    way the parser decoded it (then no offsets are trustworthy)."""
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if report.source_lines != text.splitlines():
        return None
    result = FixedFile(text, text, report, bom=bom)
    seen = {text}
    refused: set[tuple] = set()  # fixes that broke the file when applied: never tried again
    while len(result.passes) < MAX_PASSES:
        candidates = [d for d in result.report.diagnostics if applicable(d, unsafe) and _key(d) not in refused]
        chosen = {id(fix) for fix in select([d.fix for d in candidates])}
        fixed = [d for d in candidates if id(d.fix) in chosen]
        if not fixed:
            break
        new_text = apply_edits(result.fixed_text, [edit for d in fixed for edit in d.fix.edits])
        if new_text in seen:
            break  # fixes that undo each other
        new_report = lint((codecs.BOM_UTF8 if bom else b"") + new_text.encode("utf-8"))
        if new_report is None or _broke_syntax(result.report, new_report):
            # A fix must never leave a file that does not parse (two keys renamed to one name): alone, a fix that
            # still breaks it is refused; together, the first is retried on its own.
            refused.update(_key(d) for d in (fixed if len(fixed) == 1 else fixed[1:]))
            continue
        result.passes.append(Pass(result.fixed_text, result.report.diagnostics, fixed))
        result.fixed_text, result.report = new_text, new_report
        seen.add(new_text)
        refused.clear()
    return result


def _key(diagnostic: Diagnostic) -> tuple:
    return diagnostic.code, diagnostic.fix.edits


def _broke_syntax(before: FileReport, after: FileReport) -> bool:
    def parse_errors(report: FileReport) -> int:
        return sum(1 for d in report.diagnostics if d.code in ("LL001", "LL002", "LL003"))

    return parse_errors(after) > parse_errors(before)
