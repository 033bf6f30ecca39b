"""The explain report: plain data computed once from what `check` computes, rendered by every format alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lora_lint.diagnostics import Diagnostic


@dataclass
class ModelInfo:
    id: str
    source: str  # "local" | "catalog" | "cache" | "hub"
    model_class: str
    model_type: str
    layers: int
    total_parameters: int
    defaulted: bool  # the trainer's default model: the file names none


@dataclass
class Cell:
    """One module of one layer: LoRA with this rank and alpha, a full trainable copy (modules_to_save), or neither."""

    rank: int | None = None
    alpha: float | None = None
    saved: bool = False

    @property
    def targeted(self) -> bool:
        return self.rank is not None


@dataclass
class Grid:
    """The layers of one stack × the module kinds in a layer. cells[kind][layer] is None where a layer lacks it."""

    stack: str  # the layer container's path, e.g. "model.layers"
    role: str  # "decoder", "encoder", "vision", ...
    kinds: list[str]  # labels: the shortest suffix of the module path inside a layer that tells kinds apart
    cells: list[list[Cell | None]]

    @property
    def layers(self) -> int:
        return len(self.cells[0]) if self.cells else 0


@dataclass
class OutsideModule:
    """A module outside the layer stacks that LoRA could wrap or that modules_to_save copies (heads, embeddings)."""

    name: str
    cell: Cell
    parameters: int


@dataclass
class Scaling:
    """One (rank, alpha) pair PEFT uses, the scale it applies to the LoRA update, and where."""

    rank: int
    alpha: float
    scale: float
    modules: int
    kinds: list[str]


@dataclass
class Numbers:
    trainable_parameters: int  # the replay's exact count (what print_trainable_parameters says)
    total_parameters: int  # the base model's plus the trainable ones PEFT adds
    trainable_by_kind: dict[str, int]  # LoRA weights per module kind, "bias", "modules_to_save: NAME"
    saved_parameters: int  # elements in the saved adapter (get_peft_model_state_dict)
    adapter_bytes: dict[str, int]  # {"fp32": ..., "bf16": ...}: tensor bytes of adapter_model.safetensors
    scaling: list[Scaling]
    rslora: bool
    modules_to_save_parameters: int
    saved_embeddings: list[str]  # base embedding layers PEFT saves whole because they are LoRA targets

    @property
    def trainable_percent(self) -> float:
        return 100.0 * self.trainable_parameters / self.total_parameters if self.total_parameters else 0.0


@dataclass
class MemoryPart:
    label: str
    bytes: int
    detail: str


@dataclass
class Memory:
    total: int
    parts: list[MemoryPart]
    assumptions: list[str]


@dataclass
class Sweep:
    runs: int
    keys: list[str]
    rows: list[list[str]]  # one per run, at most MAX_SWEEP_ROWS
    omitted: int  # runs beyond the rows shown


@dataclass
class ExplainReport:
    path: str
    dialect: str | None = None
    model: ModelInfo | None = None
    peft_version: str | None = None
    lora: dict[str, Any] = field(default_factory=dict)  # the LoraConfig kwargs the trainer passes
    missing: list[str] = field(default_factory=list)  # what could not be said, and why
    peft_error: str | None = None  # what PEFT would raise building this adapter
    grids: list[Grid] = field(default_factory=list)
    outside: list[OutsideModule] = field(default_factory=list)
    numbers: Numbers | None = None
    memory: Memory | None = None
    sweep: Sweep | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def has_picture(self) -> bool:
        return bool(self.grids or self.outside)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["diagnostics"] = [
            {"code": d.code, "name": d.name, "severity": d.severity.value, "message": d.message,
             "line": d.span.start.line, "column": d.span.start.column, "help": d.help}
            for d in self.diagnostics
        ]
        if self.numbers is not None:
            data["numbers"]["trainable_percent"] = self.numbers.trainable_percent
        for grid, grid_data in zip(self.grids, data["grids"]):
            grid_data["layers"] = grid.layers
        return {"version": 1, **data}
