from lora_lint.diagnostics import FileReport
from lora_lint.report.escape import printable
from lora_lint.report.full import footer


def render(reports: list[FileReport], color: bool = False, summary: bool = True) -> str:
    """`path:line:col: severity: CODE [name] message`, the compiler-style line editors and CI log parsers read."""
    lines = [
        f"{printable(report.path)}:{d.span.start.line}:{d.span.start.column}: {d.severity.value}: {d.code} [{d.name}] "
        f"{printable(d.message)}"
        for report in reports
        for d in report.diagnostics
    ]
    if summary:
        lines.append(footer(reports, clean="All checks passed!"))
    return "".join(line + "\n" for line in lines)
