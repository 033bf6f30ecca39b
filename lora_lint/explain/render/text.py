"""The terminal report, with rich: the placement grid transposed (module kinds down, layers across) and folded
into blocks of layers so that it fits the width (80 columns hold a 32-layer model on one block)."""

from __future__ import annotations

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from lora_lint.diagnostics import Severity
from lora_lint.explain.render.common import (
    TERMINAL_COLORS, cell_text, config_rows, findings_line, grid_title, human_bytes, legend, model_line, number, ranks,
    scaling_rule,
)
from lora_lint.explain.report import ExplainReport, Grid

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold cyan"}
_LABEL_WIDTH = 22


def render(report: ExplainReport, color: bool = False, width: int = 80) -> str:
    console = Console(width=width, force_terminal=color, no_color=not color, color_system="standard" if color else None,
                      highlight=False, soft_wrap=False, emoji=False)
    with console.capture() as capture:
        for piece in _pieces(report, width):
            console.print(piece, overflow="fold", crop=False)
    return "".join(line.rstrip(" ") + "\n" for line in capture.get().splitlines())


def _pieces(report: ExplainReport, width: int):
    yield _para(0, f"lora-lint explain {report.path}", "bold")
    if report.dialect:
        yield _para(2, f"{report.dialect} config, replayed with PEFT {report.peft_version}", "dim")
    if report.model is not None:
        yield _section("Model")
        yield _para(2, model_line(report))
    if report.peft_error:
        yield _para(2, f"PEFT would raise {report.peft_error}", "bold red")
    if report.lora and report.numbers is None:
        yield _section("LoRA settings")
        for key, value in config_rows(report):
            yield _para(2, f"{key}: {value}")
    if report.has_picture:
        yield _section("Placement")
        rank_style = {rank: TERMINAL_COLORS[i % len(TERMINAL_COLORS)] for i, rank in enumerate(ranks(report))}
        uniform = len(rank_style) <= 1
        for grid in report.grids:
            yield from _grid(grid, width, rank_style, uniform)
        if report.outside:
            yield Text("  outside the layers", style="bold")
            for module in report.outside:
                yield _outside_line(module, rank_style)
        yield _legend(report, rank_style, uniform)
    if report.numbers is not None:
        yield from _numbers(report)
    if report.memory is not None:
        yield from _memory(report)
    if report.sweep is not None:
        yield from _sweep(report, width)
    if report.missing:
        yield _section("Not known")
        for missing in report.missing:
            yield _para(2, missing, "yellow")
    yield _section("Findings")
    for d in report.diagnostics:
        line = Text(f"{report.path}:{d.span.start.line}:{d.span.start.column}: ")
        line.append(f"{d.code} [{d.name}]", style=_SEVERITY_STYLE[d.severity])
        line.append(f" {d.message}")
        yield Padding(line, (0, 0, 0, 2))
    yield _para(2, findings_line(report) + (" Run `lora-lint check` for snippets and fixes." if report.diagnostics
                                            else ""))


def _section(name: str) -> Text:
    return Text(f"\n{name}", style="bold underline")


def _para(indent: int, text: str, style: str = "") -> Padding:
    """A line that wraps under its own indentation."""
    return Padding(Text(text, style=style), (0, 0, 0, indent))


def _grid(grid: Grid, width: int, rank_style: dict[int, str], uniform: bool):
    yield Text("  " + grid_title(grid), style="bold")
    cell_width = 1 if uniform else max(len(str(rank)) for rank in rank_style) if rank_style else 1
    step = cell_width + 1
    label_width = min(_LABEL_WIDTH, max(len(kind) for kind in grid.kinds))
    per_block = max(1, (width - 4 - label_width) // step)
    blocks = -(-grid.layers // per_block)
    per_block = -(-grid.layers // blocks)  # blocks of even size: 16 + 16, not 29 + 3
    for start in range(0, grid.layers, per_block):
        stop = min(grid.layers, start + per_block)
        yield Text("    " + " " * label_width + _layer_ruler(start, stop, step), style="dim")
        for kind, row in zip(grid.kinds, grid.cells):
            label = kind if len(kind) <= label_width else "…" + kind[-(label_width - 1):]
            line = Text(f"    {label:<{label_width}}")
            for cell in row[start:stop]:
                symbol = cell_text(cell, uniform)
                style = (rank_style[cell.rank] if cell and cell.targeted else
                         "bold yellow" if cell and cell.saved else "dim")
                line.append(" " + f"{symbol:>{cell_width}}", style=style)
            yield line


def _layer_ruler(start: int, stop: int, step: int) -> str:
    """Layer numbers above the columns, as many as fit without touching: every 4th, 8th... layer."""
    positions = [(layer - start) * step + step - 1 for layer in range(start, stop)]
    ruler = [" "] * (positions[-1] + 1 if positions else 0)
    every = 1
    while every < 64 and any(len(str(layer)) + 1 > step * every for layer in range(start, stop)):
        every *= 2
    for layer, position in zip(range(start, stop), positions):
        if (layer - start) % every == 0 or layer == stop - 1:
            label = str(layer)
            begin = position - len(label) + 1
            if all(ch == " " for ch in ruler[max(0, begin - 1):position + 1]):
                ruler[max(0, begin):position + 1] = list(label[max(0, -begin):])
    return "".join(ruler)


def _outside_line(module, rank_style: dict[int, str]) -> Padding:
    line = Text(f"{module.name:<30} ")
    cell = module.cell
    if cell.targeted:
        line.append(f"LoRA r={cell.rank} α={number(cell.alpha)}", style=rank_style[cell.rank])
    elif cell.saved:
        line.append(f"modules_to_save: trained as a full copy ({module.parameters:,} parameters)", style="bold yellow")
    else:
        line.append("·  no LoRA", style="dim")
    return Padding(line, (0, 0, 0, 4))


def _legend(report: ExplainReport, rank_style: dict[int, str], uniform: bool) -> Text:
    line = Text("  ")
    for rank, label in legend(report):
        line.append("● " if uniform else f"{rank} ", style=rank_style[rank])
        line.append(label + "   ")
    line.append("· ", style="dim")
    line.append("no LoRA   ")
    line.append("S ", style="bold yellow")
    line.append("modules_to_save")
    return line


def _numbers(report: ExplainReport):
    numbers = report.numbers
    yield _section("Numbers")
    yield Text(f"  trainable parameters  {numbers.trainable_parameters:,} "
               f"({numbers.trainable_percent:.4f}% of {numbers.total_parameters:,})")
    for kind, count in numbers.trainable_by_kind.items():
        yield Text(f"    {kind:<32} {count:>15,}")
    yield _para(2, f"adapter file          {human_bytes(numbers.adapter_bytes['fp32'])} in fp32, "
                f"{human_bytes(numbers.adapter_bytes['bf16'])} in bf16 ({numbers.saved_parameters:,} values)")
    if numbers.saved_embeddings:
        yield _para(4, f"includes the whole {', '.join(numbers.saved_embeddings)}: PEFT saves targeted embeddings "
                    "with the adapter", "yellow")
    if numbers.modules_to_save_parameters:
        yield Text(f"  modules_to_save       {numbers.modules_to_save_parameters:,} parameters trained and saved whole")
    yield Text(f"  scaling ({scaling_rule(report)})")
    for row in numbers.scaling:
        kinds = ", ".join(row.kinds)
        yield _para(4, f"r={row.rank} α={number(row.alpha)} → {row.scale:.4g} on {row.modules} modules: {kinds}")


def _memory(report: ExplainReport):
    memory = report.memory
    yield _section("Memory estimate")
    yield Text(f"  total                 {human_bytes(memory.total)}", style="bold")
    for part in memory.parts:
        yield Text(f"    {part.label:<18} {human_bytes(part.bytes):>12}")
        yield _para(8, part.detail, "dim")
    yield Text("  assumptions", style="dim")
    for assumption in memory.assumptions:
        yield _para(4, f"- {assumption}", "dim")


def _sweep(report: ExplainReport, width: int):
    sweep = report.sweep
    yield _section("Sweep")
    yield _para(2, f"{sweep.runs} runs, every combination of the values below (the toolkit's ablation study); "
                   "the picture and numbers above are run 1's")
    widths = [max(len(key), *(len(row[i]) for row in sweep.rows)) for i, key in enumerate(sweep.keys)]
    yield Text("    run  " + "  ".join(f"{key:<{w}}" for key, w in zip(sweep.keys, widths)), style="bold")
    for number_, row in enumerate(sweep.rows, 1):
        yield Text(f"    {number_:>3}  " + "  ".join(f"{value:<{w}}" for value, w in zip(row, widths)))
    if sweep.omitted:
        yield Text(f"    ... {sweep.omitted} more runs", style="dim")
