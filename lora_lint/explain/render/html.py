"""A self-contained HTML page: the SVG picture inline, the numbers, memory, sweep and findings as tables. No
scripts, no external stylesheets, fonts or images."""

from __future__ import annotations

from html import escape

from lora_lint.explain.render.common import config_rows, findings_line, model_line
from lora_lint.explain.render.svg import picture
from lora_lint.explain.render.tables import memory_rows, numbers_rows
from lora_lint.explain.report import ExplainReport

_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px; text-align: left;
vertical-align: top; border-bottom: 1px solid #eee; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.missing { color: #a15c00; } .error { color: #c62828; } .warning { color: #a15c00; } .info { color: #1565c0; }
.picture { overflow-x: auto; } code { font-size: 12px; } ul.assumptions { color: #555; font-size: 13px; }
"""


def render(report: ExplainReport) -> str:
    parts = [f"<h1>lora-lint explain <code>{escape(report.path)}</code></h1>"]
    if report.dialect:
        parts.append(f"<p>{escape(report.dialect)} config, replayed with PEFT {escape(report.peft_version or '')}</p>")
    if report.model is not None:
        parts.append(f"<h2>Model</h2><p>{escape(model_line(report))}</p>")
    if report.peft_error:
        parts.append(f'<p class="error">PEFT would raise {escape(report.peft_error)}</p>')
    if report.lora and report.numbers is None:
        parts.append("<h2>LoRA settings</h2>" + _table(config_rows(report)))
    if report.has_picture:
        parts.append(f'<h2>Placement</h2><div class="picture">{picture(report)}</div>')
    if report.numbers is not None:
        parts.append("<h2>Numbers</h2>" + _table(numbers_rows(report)))
    if report.memory is not None:
        parts.append("<h2>Memory estimate</h2>" + _table(memory_rows(report), numeric=1))
        parts.append('<ul class="assumptions">' + "".join(f"<li>{escape(a)}</li>" for a in report.memory.assumptions)
                     + "</ul>")
    if report.sweep is not None:
        sweep = report.sweep
        rows = [(str(i), *row) for i, row in enumerate(sweep.rows, 1)]
        parts.append(f"<h2>Sweep: {sweep.runs} runs</h2><p>The picture and numbers above are run 1's.</p>"
                     + _table(rows, header=("run", *sweep.keys)))
        if sweep.omitted:
            parts.append(f"<p>... {sweep.omitted} more runs</p>")
    if report.missing:
        parts.append("<h2>Not known</h2><ul>" + "".join(f'<li class="missing">{escape(m)}</li>'
                                                      for m in report.missing) + "</ul>")
    findings = "".join(
        f'<li><span class="{d.severity.value}">{escape(d.code)} [{escape(d.name)}]</span> '
        f"line {d.span.start.line}: {escape(d.message)}</li>" for d in report.diagnostics)
    parts.append(f"<h2>Findings</h2><ul>{findings}</ul><p>{escape(findings_line(report))}</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>lora-lint explain {escape(report.path)}</title><style>{_STYLE}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def _table(rows, header=None, numeric: int | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i == numeric else ""}>{escape(cell)}</td>'
                                    for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"
