"""The report's tables as rows of strings, shared by the HTML and markdown renderers."""

from __future__ import annotations

from lora_lint.explain.render.common import human_bytes, number, scaling_rule
from lora_lint.explain.report import ExplainReport


def numbers_rows(report: ExplainReport) -> list[tuple[str, str]]:
    numbers = report.numbers
    rows = [("trainable parameters", f"{numbers.trainable_parameters:,} ({numbers.trainable_percent:.4f}% of "
                                     f"{numbers.total_parameters:,})")]
    rows += [(f"↳ {kind}", f"{count:,}") for kind, count in numbers.trainable_by_kind.items()]
    rows.append(("adapter file", f"{human_bytes(numbers.adapter_bytes['fp32'])} in fp32, "
                                 f"{human_bytes(numbers.adapter_bytes['bf16'])} in bf16 "
                                 f"({numbers.saved_parameters:,} values)"))
    if numbers.saved_embeddings:
        rows.append(("↳ saved whole", ", ".join(numbers.saved_embeddings) + " (targeted embeddings)"))
    if numbers.modules_to_save_parameters:
        rows.append(("modules_to_save", f"{numbers.modules_to_save_parameters:,} parameters trained and saved whole"))
    for row in numbers.scaling:
        rows.append((f"scaling r={row.rank} α={number(row.alpha)}",
                     f"{scaling_rule(report)} = {row.scale:.4g} on {row.modules} modules ({', '.join(row.kinds)})"))
    return rows


def memory_rows(report: ExplainReport) -> list[tuple[str, str, str]]:
    memory = report.memory
    return ([(part.label, human_bytes(part.bytes), part.detail) for part in memory.parts]
            + [("total", human_bytes(memory.total), "")])


def layer_runs(grid) -> list[tuple[int, int, list]]:
    """Consecutive layers whose cells are all alike, as (first, last, cells per kind): a 32-layer model with LoRA
    everywhere is one row."""
    runs: list[tuple[int, int, list]] = []
    for layer in range(grid.layers):
        column = [row[layer] for row in grid.cells]
        if runs and runs[-1][2] == column:
            runs[-1] = (runs[-1][0], layer, column)
        else:
            runs.append((layer, layer, column))
    return runs
