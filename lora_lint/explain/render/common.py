"""What every explain renderer shows the same way: byte sizes, cell symbols, the rank legend, the summary lines."""

from __future__ import annotations

from lora_lint.diagnostics import Severity
from lora_lint.explain.report import Cell, ExplainReport, Grid

# Colors per distinct rank (in increasing rank order), for terminals and for SVG/HTML.
TERMINAL_COLORS = ("green", "cyan", "magenta", "yellow", "blue", "bright_red")
WEB_COLORS = ("#2e9e44", "#1f77b4", "#9467bd", "#d4a017", "#17becf", "#d62728")
SAVED_COLOR, UNTARGETED_COLOR = "#e07b00", "#d9d9d9"


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.2f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def ranks(report: ExplainReport) -> list[int]:
    """The distinct ranks in the picture, smallest first: the legend's order and the colors' index."""
    found = {cell.rank for grid in report.grids for row in grid.cells for cell in row if cell and cell.targeted}
    found |= {module.cell.rank for module in report.outside if module.cell.targeted}
    return sorted(found)


def alphas_by_rank(report: ExplainReport) -> dict[int, list[float]]:
    by_rank: dict[int, set[float]] = {}
    for scaling in report.numbers.scaling if report.numbers else []:
        by_rank.setdefault(scaling.rank, set()).add(scaling.alpha)
    return {rank: sorted(alphas) for rank, alphas in by_rank.items()}


def cell_text(cell: Cell | None, uniform: bool) -> str:
    """A cell as characters: the rank (or ● when every target has the same rank), S for a saved copy, · else."""
    if cell is None:
        return ""
    if cell.targeted:
        return "●" if uniform else str(cell.rank)
    return "S" if cell.saved else "·"


def grid_title(grid: Grid) -> str:
    return f"{grid.stack} ({grid.role}, {grid.layers} layers)"


def legend(report: ExplainReport) -> list[tuple[int, str]]:
    """(rank, label) per distinct rank, with the alphas PEFT uses at that rank."""
    alphas = alphas_by_rank(report)
    entries = []
    for rank in ranks(report):
        alpha = "/".join(number(a) for a in alphas.get(rank, []))
        entries.append((rank, f"LoRA r={rank}" + (f" α={alpha}" if alpha else "")))
    return entries


def findings_line(report: ExplainReport) -> str:
    counts = {severity: sum(1 for d in report.diagnostics if d.severity is severity) for severity in Severity}
    if not any(counts.values()):
        return "No findings: all checks passed."
    parts = [f"{counts[Severity.ERROR]} error{'s' if counts[Severity.ERROR] != 1 else ''}",
             f"{counts[Severity.WARNING]} warning{'s' if counts[Severity.WARNING] != 1 else ''}"]
    if counts[Severity.INFO]:
        parts.append(f"{counts[Severity.INFO]} info")
    return f"Found {', '.join(parts)}."


def model_line(report: ExplainReport) -> str:
    model = report.model
    default = " (the trainer's default: the file names none)" if model.defaulted else ""
    return (f"{model.id}{default} · resolved from {model.source} · {model.model_class} · {model.layers} layers · "
            f"{model.total_parameters:,} parameters")


def scaling_rule(report: ExplainReport) -> str:
    return "alpha/sqrt(r) (rsLoRA)" if report.numbers and report.numbers.rslora else "alpha/r"


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_CONFIG_KEYS = ("task_type", "r", "lora_alpha", "use_rslora", "target_modules", "exclude_modules",
                "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern", "bias", "modules_to_save",
                "target_parameters")


def config_rows(report: ExplainReport) -> list[tuple[str, str]]:
    """What the config alone says (the LoraConfig kwargs the trainer passes) and the scale it implies: the report
    for a config whose model or adapter is not known."""
    lora = report.lora
    rows = [(key, str(lora[key])) for key in _CONFIG_KEYS if lora.get(key) is not None]
    rank, alpha = lora.get("r", 8), lora.get("lora_alpha", 8)
    if isinstance(rank, int) and not isinstance(rank, bool) and rank > 0 and isinstance(alpha, (int, float)):
        if lora.get("use_rslora") is True:
            rows.append(("scale", f"alpha/sqrt(r) = {alpha / rank ** 0.5:.4g} (rsLoRA)"))
        else:
            rows.append(("scale", f"alpha/r = {alpha / rank:.4g}"))
    return rows
