"""The placement picture as a standalone SVG: one grid per layer stack (module kinds down, layers across), a row
per module outside the layers, and the legend. Also embedded by the HTML report."""

from __future__ import annotations

from html import escape

from lora_lint.explain.render.common import (
    SAVED_COLOR, UNTARGETED_COLOR, WEB_COLORS, grid_title, legend, model_line, ranks,
)
from lora_lint.explain.report import Cell, ExplainReport

CELL, GAP = 14, 2
PITCH = CELL + GAP
CHAR = 7.2  # average glyph width of 12px monospace
FONT = "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px"


def render(report: ExplainReport) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + picture(report) + "\n"


def picture(report: ExplainReport) -> str:
    """The <svg> element (no XML declaration), sized to its content."""
    color_of = {rank: WEB_COLORS[i % len(WEB_COLORS)] for i, rank in enumerate(ranks(report))}
    uniform = len(color_of) <= 1
    labels = [kind for grid in report.grids for kind in grid.kinds] + [m.name for m in report.outside]
    label_width = int(max((len(label) for label in labels), default=8) * CHAR) + 12
    body: list[str] = []
    y = 20
    header = model_line(report) if report.model else report.path
    body.append(_text(8, y, header, weight="bold"))
    y += 14
    widest = label_width + 8 + len(header) * CHAR
    if not report.has_picture:  # nothing to draw: say why, with the findings, instead of an empty grid
        lines = [f"no picture: {missing}" for missing in report.missing]
        lines += [f"{d.code} [{d.name}] line {d.span.start.line}: {d.message}" for d in report.diagnostics]
        for line in lines:
            y += 18
            body.append(_text(8, y, line))
            widest = max(widest, 16 + len(line) * CHAR)
        width, height = int(widest) + 8, y + 16
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="lora-placement" width="{width}" '
                f'height="{height}" viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#ffffff"/>'
                + "".join(body) + "</svg>")
    for grid in report.grids:
        y += 18
        body.append(_text(8, y, grid_title(grid), weight="bold"))
        y += 16
        left = 8 + label_width
        every = 1 if grid.layers <= 16 else 4 if grid.layers <= 64 else 8
        for layer in range(grid.layers):
            if layer % every == 0 or layer == grid.layers - 1:
                body.append(_text(left + layer * PITCH + CELL / 2, y, str(layer), anchor="middle", size=9,
                                  fill="#666"))
        y += 6
        body.append(f'<g class="grid" data-stack="{escape(grid.stack)}" data-layers="{grid.layers}" '
                    f'data-kinds="{len(grid.kinds)}">')
        for kind, row in zip(grid.kinds, grid.cells):
            body.append(_text(8, y + CELL - 3, kind))
            for layer, cell in enumerate(row):
                if cell is not None:
                    body.append(_cell(left + layer * PITCH, y, cell, color_of, uniform,
                                      f"{grid.stack}.{layer} {kind}"))
            y += PITCH
        body.append("</g>")
        widest = max(widest, left + grid.layers * PITCH + 8)
    if report.outside:
        y += 18
        body.append(_text(8, y, "outside the layers", weight="bold"))
        y += 6
        body.append('<g class="outside">')
        for module in report.outside:
            body.append(_text(8, y + CELL - 3, module.name))
            body.append(_cell(8 + label_width, y, module.cell, color_of, uniform, module.name))
            y += PITCH
        body.append("</g>")
    y += 14
    x = 8.0
    entries = [(color_of[rank], label) for rank, label in legend(report)]
    entries += [(UNTARGETED_COLOR, "no LoRA"), (SAVED_COLOR, "modules_to_save (full copy)")]
    for color, label in entries:
        body.append(f'<rect x="{x:.0f}" y="{y}" width="{CELL}" height="{CELL}" rx="2" fill="{color}"/>')
        body.append(_text(x + CELL + 4, y + CELL - 3, label))
        x += CELL + 16 + len(label) * CHAR
    widest = max(widest, x)
    height = y + CELL + 12
    width = int(widest) + 8
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="lora-placement" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="LoRA placement">'
            f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(body) + "</svg>")


def _cell(x: float, y: float, cell: Cell, color_of: dict[int, str], uniform: bool, where: str) -> str:
    if cell.targeted:
        fill, title = color_of[cell.rank], f"{where}: LoRA r={cell.rank} alpha={cell.alpha:g}"
    elif cell.saved:
        fill, title = SAVED_COLOR, f"{where}: modules_to_save"
    else:
        fill, title = UNTARGETED_COLOR, f"{where}: no LoRA"
    label = ""
    if cell.targeted and not uniform:
        label = _text(x + CELL / 2, y + CELL - 4, str(cell.rank), anchor="middle", size=8, fill="#fff")
    return (f'<rect class="cell" x="{x:.0f}" y="{y}" width="{CELL}" height="{CELL}" rx="2" fill="{fill}">'
            f"<title>{escape(title)}</title></rect>{label}")


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, weight: str = "normal",
          fill: str = "#222") -> str:
    style = FONT.replace("font-size:12px", f"font-size:{size}px")
    return (f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" font-weight="{weight}" fill="{fill}" '
            f'style="{style}">{escape(text)}</text>')
