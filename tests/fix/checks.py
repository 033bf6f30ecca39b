"""What every fixed file must satisfy, shared by the generated-config and the real-config tests."""

from __future__ import annotations

import re

from lora_lint.fix.engine import FixedFile, applicable

BOM = b"\xef\xbb\xbf"


def assert_only_edit_spans_changed(original: bytes, fixed: FixedFile) -> None:
    """Each pass changed exactly the byte spans of its edits, the passes chain from `original` to the fixed bytes,
    and each edit replaces only text on the lines of its finding (or the punctuation around them: a flow item's
    `,`, the brackets of a list whose only item it is, a block list's line break)."""
    bom = BOM if fixed.bom else b""
    current = original
    for number, fix_pass in enumerate(fixed.passes):
        before = fix_pass.before
        assert current == bom + before.encode("utf-8")
        rebuilt, position = b"", 0
        for edit in sorted(fix_pass.edits, key=lambda e: e.start):
            start, end = _byte_offset(before, edit.start, bom), _byte_offset(before, edit.end, bom)
            assert start >= position, "edits of one pass overlap"
            rebuilt += current[position:start] + edit.content.encode("utf-8")
            position = end
        rebuilt += current[position:]
        following = fixed.passes[number + 1].before if number + 1 < len(fixed.passes) else fixed.fixed_text
        current = bom + following.encode("utf-8")
        assert rebuilt == current
        for diagnostic in fix_pass.fixed:
            low, high = _line_bounds(before, diagnostic.span.start.line, diagnostic.span.end.line)
            for edit in diagnostic.fix.edits:
                outside = before[edit.start:min(edit.end, low)] + before[max(edit.start, high):edit.end]
                assert not outside.strip(" \t\r\n,[]"), (diagnostic, outside)
    assert current == fixed.fixed


def assert_fixed_findings_gone(fixed: FixedFile, after, unsafe: bool) -> None:
    """Per pass, the next lint reports nothing of a fixed finding's kind where it was (its position carried through
    the pass's edits; messages compared without the line numbers they quote); and nothing is left to fix."""
    for number, fix_pass in enumerate(fixed.passes):
        last = number + 1 == len(fixed.passes)
        text_after = fixed.fixed_text if last else fixed.passes[number + 1].before
        found_after = after.diagnostics if last else fixed.passes[number + 1].found
        left = {(_kind(d), _offset(text_after, d)) for d in found_after}
        for diagnostic in fix_pass.fixed:
            moved = _carry(_offset(fix_pass.before, diagnostic), fix_pass.edits)
            assert (_kind(diagnostic), moved) not in left, diagnostic
    assert not any(applicable(d, unsafe) for d in after.diagnostics)


def _line_bounds(text: str, first: int, last: int) -> tuple[int, int]:
    """Offsets of the start of line `first` and of the end (with its line break) of line `last`, 1-based."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    start = starts[max(first, 1) - 1]
    end = starts[last] if last < len(starts) else len(text)
    return start, end


def _kind(diagnostic) -> tuple[str, str]:
    return diagnostic.code, re.sub(r"line \d+", "line N", diagnostic.message)


def _offset(text: str, diagnostic) -> int:
    start = diagnostic.span.start
    return _line_bounds(text, start.line, start.line)[0] + start.column - 1


def _carry(offset: int, edits) -> int:
    """Where `offset` is after the edits: shifted by those before it, at the replacement if inside one."""
    shift = 0
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.start <= offset < edit.end or edit.start == offset:
            return edit.start + shift
        if edit.end <= offset:
            shift += len(edit.content) - (edit.end - edit.start)
    return offset + shift


def _byte_offset(text: str, index: int, bom: bytes) -> int:
    return len(text[:index].encode("utf-8")) + len(bom)
