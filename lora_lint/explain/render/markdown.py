"""GitHub-flavoured markdown for a pull-request comment: the placement as a table of layer runs × module kinds."""

from __future__ import annotations

from lora_lint.explain.render.common import config_rows, findings_line, grid_title, model_line, number
from lora_lint.explain.render.tables import layer_runs, memory_rows, numbers_rows
from lora_lint.explain.report import Cell, ExplainReport


def render(report: ExplainReport) -> str:
    out = [f"### lora-lint explain `{report.path}`", ""]
    if report.dialect:
        out += [f"{report.dialect} config, replayed with PEFT {report.peft_version}", ""]
    if report.model is not None:
        out += [f"**Model:** {_escape(model_line(report))}", ""]
    if report.peft_error:
        out += [f"> **PEFT would raise** {_escape(report.peft_error)}", ""]
    if report.lora and report.numbers is None:
        out += ["**LoRA settings**", ""] + _table(["key", "value"], [list(row) for row in config_rows(report)]) + [""]
    for grid in report.grids:
        out += [f"**{_escape(grid_title(grid))}**", ""]
        out += _table(["layers", *grid.kinds],
                      [[_layers(first, last), *(_cell(c) for c in cells)] for first, last, cells in layer_runs(grid)])
        out.append("")
    if report.outside:
        out += ["**Outside the layers**", ""]
        out += _table(["module", "adapter", "parameters"],
                      [[f"`{m.name}`", _cell(m.cell, long=True), f"{m.parameters:,}"] for m in report.outside])
        out.append("")
    if report.numbers is not None:
        out += ["**Numbers**", ""] + _table(["", "value"], [list(row) for row in numbers_rows(report)]) + [""]
    if report.memory is not None:
        out += ["**Memory estimate**", ""] + _table(["part", "bytes", "how"], [list(r) for r in memory_rows(report)])
        out += [""] + [f"- {_escape(a)}" for a in report.memory.assumptions] + [""]
    if report.sweep is not None:
        sweep = report.sweep
        out += [f"**Sweep: {sweep.runs} runs** (the picture and numbers above are run 1's)", ""]
        out += _table(["run", *sweep.keys], [[str(i), *row] for i, row in enumerate(sweep.rows, 1)])
        out += (["", f"... {sweep.omitted} more runs"] if sweep.omitted else []) + [""]
    if report.missing:
        out += ["**Not known**", ""] + [f"- {_escape(m)}" for m in report.missing] + [""]
    out += ["**Findings**", ""]
    out += [f"- `{d.code}` [{d.name}] line {d.span.start.line}: {_escape(d.message)}" for d in report.diagnostics]
    out += ["", findings_line(report), ""]
    return "\n".join(out)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    return lines


def _cell(cell: Cell | None, long: bool = False) -> str:
    if cell is None:
        return ""
    if cell.targeted:
        return f"r{cell.rank} α{number(cell.alpha)}" if long else f"r{cell.rank}"
    if cell.saved:
        return "modules_to_save" if long else "saved"
    return "·"


def _layers(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def _escape(text: str) -> str:
    """Pipes split GFM table cells; a backslash keeps them in the cell (and in prose it renders as a pipe)."""
    return str(text).replace("|", "\\|")
