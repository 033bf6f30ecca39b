"""The one diagnostic model every stage produces and every renderer consumes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Position:
    """1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class Span:
    """Start and end of a piece of source; the end column is exclusive (one past the last character)."""

    start: Position
    end: Position

    @classmethod
    def point(cls, line: int, column: int) -> Span:
        return cls(Position(line, column), Position(line, column + 1))

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


FILE_START = Span.point(1, 1)


class Applicability(str, enum.Enum):
    """ruff's meaning: a safe fix keeps what the config means; an unsafe one may change what it does."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Edit:
    """Replace the source between two offsets of the file's decoded text (end exclusive) with `content`."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Fix:
    edits: tuple[Edit, ...]
    applicability: Applicability
    message: str


@dataclass
class Diagnostic:
    code: str
    message: str
    span: Span = FILE_START
    help: str | None = None
    fix: Fix | None = None
    # Filled in from the rule registry and the settings before reporting.
    name: str = ""
    severity: Severity = Severity.ERROR


@dataclass
class FileReport:
    """Everything lora-lint found out about one file."""

    path: str
    dialect: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    model: dict | None = None
    targets: list[str] | None = None
    modules_to_save: list[str] | None = None
    trainable_parameters: int | None = None
    peft_version: str | None = None
    summary_line: str | None = None
    train_step: dict | None = None  # the training step's summary, when one was asked for (lora_lint.train_step)
    trainer: dict | None = None  # the trainer's reading: verdict, pins, model class, runs with kwargs and provenance
    source_lines: list[str] = field(default_factory=list)

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)
