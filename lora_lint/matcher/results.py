"""What the replay returns (``MatchResult``) and the exception it raises where PEFT raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class PeftErrorInfo:
    """The exception PEFT raises: Python exception class name, a stable machine-readable kind, a message."""

    type: str
    kind: str
    message: str


@dataclass
class PeftWarningInfo:
    """A warning PEFT emits. ``modules`` / ``keys`` name what it is about (module names, pattern keys)."""

    kind: str
    message: str
    modules: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass
class MatchResult:
    """What ``get_peft_model`` builds. When ``error`` is set, the other fields describe the state PEFT had reached
    when it raised (e.g. the targets matched before an unsupported module stopped the injection)."""

    targets: list[str]
    target_parameters: list[str]
    modules_to_save: list[str]
    rank: dict[str, int]
    alpha: dict[str, float]
    error: Optional[PeftErrorInfo]
    warnings: list[PeftWarningInfo]
    trainable_parameters: int
    # The config after PEFT's in-place rewrites (default targets, all-linear, MoE conversion, task heads).
    effective_target_modules: Any
    effective_target_parameters: Optional[list[str]]
    effective_modules_to_save: Optional[list[str]]


class PeftRaise(Exception):
    """Raised inside the replay where PEFT raises; carries the error PEFT would show."""

    def __init__(self, type_: str, kind: str, message: str):
        super().__init__(message)
        self.info = PeftErrorInfo(type_, kind, message)

