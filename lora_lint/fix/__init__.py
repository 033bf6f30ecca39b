"""Autofix: `check --fix`, `--unsafe-fixes`, `--diff`, `--show-fixes`.

Rules attach a Fix (edits on node spans, safe or unsafe; see `edits.py`) to a finding. After the lint, the command
line hands its reports here: each file with applicable fixes is read again, fixed pass by pass until nothing
applicable is left (`engine.py`), and written back atomically unless it changed on disk meanwhile (`files.py`). What
is reported afterwards is the lint of the fixed file, so fixed findings are gone; suppressed and disabled findings
never reach the fixer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lora_lint.diagnostics import Applicability, Diagnostic, FileReport
from lora_lint.fix.engine import FixedFile, applicable, fix_text
from lora_lint.fix.files import ChangedOnDisk, unified_diff, replace_if_unchanged


@dataclass
class FixOutcome:
    reports: list[FileReport | None]  # one per job: the lint of the file as it now is (or would be, with --diff)
    fixed: list[tuple[str, FixedFile]] = field(default_factory=list)  # files that change
    problems: list[str] = field(default_factory=list)  # files that could not be written

    @property
    def changed(self) -> bool:
        return bool(self.fixed)

    def diff(self) -> str:
        return "".join(unified_diff(path, f.text, f.fixed_text) for path, f in self.fixed)

    def summary(self, *, would: bool, show_fixes: bool) -> str:
        count = sum(len(f.fixed_diagnostics) for _, f in self.fixed)
        if not count:
            return "No fixes available.\n" if would else ""
        verb, files = "Would fix" if would else "Fixed", _plural(len(self.fixed), "file")
        lines = [f"{verb} {_plural(count, 'finding')} in {files}{':' if show_fixes else '.'}"]
        if show_fixes:
            for path, fixed in self.fixed:
                lines.append(f"- {path}:")
                lines += [f"    {_describe(d)}" for d in fixed.fixed_diagnostics]
        return "\n".join(lines) + "\n"


def apply_fixes(pairs: list[tuple[tuple, FileReport | None]], *, unsafe: bool, write: bool) -> FixOutcome:
    """Fix every file whose report has an applicable fix. `pairs` are the command line's lint jobs
    (path, settings, options, explicit) with their reports; with `write` false nothing is written (--diff)."""
    from lora_lint.lint import lint_file

    outcome = FixOutcome([])
    for job, report in pairs:
        outcome.reports.append(report)
        if report is None or not any(applicable(d, unsafe) for d in report.diagnostics):
            continue
        path, settings, options, explicit = job
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            outcome.problems.append(f"{report.path}: cannot read the file again to fix it: {exc.strerror or exc}")
            continue

        def lint(candidate: bytes, path=path, settings=settings, options=options, explicit=explicit):
            return lint_file(path, settings, options, explicit, data=candidate)

        first = lint(data)  # the lint of exactly the bytes being fixed, which must still be on disk at the end
        fixed = fix_text(data, first, lint, unsafe) if first is not None else None
        if fixed is None or not fixed.changed:
            outcome.reports[-1] = first
            continue
        if write:
            try:
                replace_if_unchanged(Path(path), data, fixed.fixed)
            except (ChangedOnDisk, OSError) as exc:
                outcome.problems.append(str(exc) if isinstance(exc, ChangedOnDisk) else
                                        f"{report.path}: cannot write the fixed file: {exc.strerror or exc}")
                outcome.reports[-1] = first
                continue
        outcome.reports[-1] = fixed.report
        outcome.fixed.append((report.path, fixed))
    return outcome


def fixable_note(reports: list[FileReport], unsafe: bool) -> str:
    """ruff's footer: how many reported findings `--fix` (and `--unsafe-fixes`) would fix."""
    diagnostics = [d for r in reports for d in r.diagnostics if d.fix is not None]
    safe = sum(1 for d in diagnostics if applicable(d, unsafe))
    hidden = len(diagnostics) - safe
    if not diagnostics:
        return ""
    if not safe:
        return f"[*] {_plural(hidden, 'fix', 'fixes')} available with `--unsafe-fixes`.\n"
    note = f"[*] {safe} fixable with `{'--unsafe-fixes' if unsafe else '--fix'}`"
    return note + (f" ({hidden} more with `--unsafe-fixes`).\n" if hidden else ".\n")


def _describe(d: Diagnostic) -> str:
    kind = " (unsafe)" if d.fix.applicability is Applicability.UNSAFE else ""
    return f"{d.code} [{d.name}] line {d.span.start.line}: {d.fix.message}{kind}"


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"
