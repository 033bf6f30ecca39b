from lora_lint.diagnostics import FileReport
from lora_lint.report.escape import printable


def render(reports: list[FileReport], color: bool = False) -> str:
    lines = [
        f"{printable(report.path)}:{d.span.start.line}:{d.span.start.column}: {d.code} [{d.name}] {printable(d.message)}"
        for report in reports
        for d in report.diagnostics
    ]
    return "\n".join(lines) + ("\n" if lines else "")
