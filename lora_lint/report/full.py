"""ruff-style report: header, location, numbered snippet with carets under the span, help, footer."""

from __future__ import annotations

from lora_lint.diagnostics import Diagnostic, FileReport, Severity
from lora_lint.report.escape import printable

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}


def render(reports: list[FileReport], color: bool = False, summary: bool = True) -> str:
    """`summary=False` (--quiet) leaves out the per-file model lines and the footer."""
    chunks: list[str] = []
    for report in reports:
        for diagnostic in report.diagnostics:
            chunks.append(_diagnostic(report, diagnostic))
        if report.summary_line and summary:
            chunks.append(f"{printable(report.path)}: {printable(report.summary_line)}\n")
        if report.train_step and summary:
            chunks.append(f"{printable(report.path)}: {printable(_train_step_line(report.train_step))}\n")
    if summary:
        chunks.append(footer(reports) + "\n")
    text = "\n".join(chunks)
    return _colorize(text, reports) if color else text


def _diagnostic(report: FileReport, d: Diagnostic) -> str:
    start, end = d.span.start, d.span.end
    out = [_header(d), f" --> {printable(report.path)}:{start.line}:{start.column}"]
    lines = report.source_lines
    if 1 <= start.line <= len(lines):
        width = len(str(min(end.line, len(lines))))
        out.append(f"{' ' * width} |")
        last = min(end.line, start.line + 2, len(lines))
        for number in range(start.line, last + 1):
            text = lines[number - 1].expandtabs(1)
            out.append(f"{number:>{width}} | {printable(text)}")
            first_col = start.column if number == start.line else 1 + len(text) - len(text.lstrip())
            last_col = end.column if number == end.line else len(text) + 1
            # Columns in the escaped line: an escape is wider than the character it stands for.
            first_col, last_col = (1 + len(printable(text[:column - 1])) for column in (first_col, last_col))
            carets = max(1, last_col - first_col)
            out.append(f"{' ' * width} | {' ' * (first_col - 1)}{'^' * carets}")
        out.append(f"{' ' * width} |")
    if d.help:
        out.append(f"help: {printable(d.help)}")
    return "\n".join(out) + "\n"


def _header(d: Diagnostic) -> str:
    # The severity is spelled out, so it is there without colour too.
    return f"{d.severity.value}: {d.code} [{d.name}] {printable(d.message)}"


def _train_step_line(step: dict) -> str:
    if step["status"] in ("skipped", "error"):
        return f"not stepped: {step.get('reason')}" if step["status"] == "skipped" else \
            f"train step could not run: {step.get('reason')}"
    checks = step["checks"]
    failed = [c["name"] for c in checks if not c["passed"]]
    verdict = "train step passed" if not failed else f"train step failed {', '.join(failed)}"
    where = f"{step['mode']} {step['class']}"
    if step.get("shape"):
        widths = list(step["shape"].items())[:2]
        where += " (" + ", ".join(f"{key} {v['full']}→{v['miniature']}" for key, v in widths) + ")"
    loss = f"loss {step['loss']:.4f}" if step.get("loss") is not None else "no loss"
    memory = f", peak RSS {step['peak_rss_bytes'] / 2**20:,.0f} MiB" if step.get("peak_rss_bytes") else ""
    if step.get("peak_gpu_bytes"):
        memory += f", peak GPU {step['peak_gpu_bytes'] / 2**20:,.0f} MiB"
    return (f"{verdict} ({len(checks) - len(failed)}/{len(checks)} checks; {where}, {step['task']} on "
            f"{step['device']}; {loss}, {step['trainable_parameters']:,} trainable parameters, "
            f"{step['seconds']:.1f} s{memory})")


def footer(reports: list[FileReport], clean: str | None = None) -> str:
    errors = sum(r.count(Severity.ERROR) for r in reports)
    warnings = sum(r.count(Severity.WARNING) for r in reports)
    infos = sum(r.count(Severity.INFO) for r in reports)
    if not errors and not warnings and not infos:
        return clean or f"All checks passed ({len(reports)} file{'s' if len(reports) != 1 else ''})."
    parts = [f"{errors} error{'s' if errors != 1 else ''}", f"{warnings} warning{'s' if warnings != 1 else ''}"]
    if infos:
        parts.append(f"{infos} info")
    return f"Found {', '.join(parts)}."


def _colorize(text: str, reports: list[FileReport]) -> str:
    # rich is imported only for a terminal that wants color, which keeps the hook path light.
    from rich.console import Console
    from rich.text import Text

    console = Console(force_terminal=True, color_system="standard", width=10_000, highlight=False)
    styled = Text()
    severity_of = {_header(d): d.severity for r in reports for d in r.diagnostics}
    for line in text.splitlines(keepends=True):
        piece = Text(line)
        severity = severity_of.get(line.rstrip("\n"))
        if severity is not None:
            piece.stylize(_STYLE[severity], 0, line.find("]") + 1)
        if line.startswith("help:"):
            piece.stylize("bold", 0, len("help:"))
        if set(line.split("|", 1)[-1].strip()) == {"^"}:
            piece.stylize("bold red", 0, len(line))
        styled.append(piece)
    with console.capture() as capture:
        console.print(styled, end="")
    return capture.get()
