"""GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`."""

from __future__ import annotations

from lora_lint.diagnostics import FileReport, Severity
from lora_lint.report.escape import printable

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: list[FileReport], color: bool = False, summary: bool = True) -> str:
    lines = []
    for report in reports:
        for d in report.diagnostics:
            properties = ",".join([
                f"file={escape_property(printable(report.path))}",
                f"line={d.span.start.line}",
                f"col={d.span.start.column}",
                f"endLine={d.span.end.line}",
                f"endColumn={d.span.end.column}",
                f"title={escape_property(f'{d.code} [{d.name}]')}",
            ])
            message = printable(d.message) + (f"\nhelp: {printable(d.help)}" if d.help else "")
            lines.append(f"::{_COMMAND[d.severity]} {properties}::{escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
