"""The fix engine on its own: which fixes share a pass, and when the passes stop."""

from lora_lint.diagnostics import Applicability, Diagnostic, Edit, FileReport, Fix
from lora_lint.fix.engine import MAX_PASSES, apply_edits, fix_text, select

SAFE = Applicability.SAFE


def _fix(*edits):
    return Fix(tuple(Edit(*e) for e in edits), SAFE, "test")


def test_overlapping_fixes_never_share_a_pass():
    first, overlapping, touching, elsewhere = _fix((2, 5, "x")), _fix((4, 6, "y")), _fix((5, 7, "z")), _fix((9, 9, "w"))
    assert select([overlapping, touching, elsewhere, first]) == [first, touching, elsewhere]
    # two insertions at one point: which goes first is ambiguous, so only one is applied
    assert len(select([_fix((3, 3, "a")), _fix((3, 3, "b"))])) == 1
    # a fix with two edits is taken whole or not at all
    assert select([_fix((0, 1, "a"), (6, 7, "b")), _fix((6, 8, "c"))]) == [_fix((0, 1, "a"), (6, 7, "b"))]


def test_apply_edits_keeps_everything_between_them():
    assert apply_edits("abcdefghij", [Edit(7, 8, "H"), Edit(0, 0, "<"), Edit(2, 4, "")]) == "<abefgHij"


def _reporting(fix_for):
    """A lint that reports one diagnostic carrying the fix `fix_for(text)` returns (or none)."""

    def lint(data: bytes) -> FileReport:
        text = data.decode("utf-8")
        fix = fix_for(text)
        return FileReport("x.yaml", diagnostics=[Diagnostic("LL107", "m", fix=fix)] if fix else [],
                          source_lines=text.splitlines())

    return lint


def test_passes_stop_at_the_bound_when_every_fix_enables_another():
    lint = _reporting(lambda text: _fix((0, 0, "a")))
    result = fix_text(b"x\n", lint(b"x\n"), lint, unsafe=False)
    assert len(result.passes) == MAX_PASSES
    assert result.fixed_text == "a" * MAX_PASSES + "x\n"


def test_fixes_that_undo_each_other_stop():
    lint = _reporting(lambda text: _fix((0, 1, "b" if text[0] == "a" else "a")))
    result = fix_text(b"a\n", lint(b"a\n"), lint, unsafe=False)
    assert [p.before for p in result.passes] == ["a\n"]
    assert result.fixed_text == "b\n"


def test_a_fix_that_would_break_the_syntax_is_not_applied():
    def lint(data: bytes) -> FileReport:
        text = data.decode("utf-8")
        codes = ["LL001"] if "[" in text else ["LL107"]
        fix = _fix((0, 0, "[")) if codes == ["LL107"] else None
        return FileReport("x.yaml", diagnostics=[Diagnostic(c, "m", fix=fix) for c in codes],
                          source_lines=text.splitlines())

    result = fix_text(b"a: b\n", lint(b"a: b\n"), lint, unsafe=False)
    assert not result.changed and result.passes == []


def test_unsafe_fixes_only_when_asked():
    unsafe = Fix((Edit(0, 1, "b"),), Applicability.UNSAFE, "guess")
    lint = _reporting(lambda text: unsafe if text[0] == "a" else None)
    assert not fix_text(b"a\n", lint(b"a\n"), lint, unsafe=False).changed
    assert fix_text(b"a\n", lint(b"a\n"), lint, unsafe=True).fixed == b"b\n"


def test_text_the_parser_did_not_see_is_not_fixed():
    lint = _reporting(lambda text: _fix((0, 1, "b")))
    stale = lint(b"old\n")
    assert fix_text(b"a\n", stale, lint, unsafe=False) is None


def test_fixes_that_break_the_file_together_are_applied_one_at_a_time():
    # two keys renamed to the same name: together they make a duplicate key; the second then offers no fix
    def lint(data: bytes) -> FileReport:
        text = data.decode("utf-8")
        keys = [line.split(":")[0] for line in text.splitlines()]
        diagnostics = [Diagnostic("LL002", "dup")] if len(set(keys)) < len(keys) else []
        offset = 0
        for line in text.splitlines(keepends=True):
            key = line.split(":")[0]
            if key in ("alpha", "lora_aplha") and "lora_alpha" not in keys:
                diagnostics.append(Diagnostic("LL101", key, fix=Fix((Edit(offset, offset + len(key), "lora_alpha"),),
                                                                    Applicability.UNSAFE, "rename")))
            offset += len(line)
        return FileReport("x.yaml", diagnostics=diagnostics, source_lines=text.splitlines())

    data = b"alpha: 16\nlora_aplha: 32\n"
    result = fix_text(data, lint(data), lint, unsafe=True)
    assert result.fixed_text == "lora_alpha: 16\nlora_aplha: 32\n"
    assert [len(p.fixed) for p in result.passes] == [1]
