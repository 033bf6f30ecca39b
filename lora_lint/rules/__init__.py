"""Rule checks, one module each. A check receives a LintContext and yields Findings."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterator

from lora_lint.diagnostics import Fix, Span
from lora_lint.source import Node

if TYPE_CHECKING:
    from lora_lint.lint import LintContext


@dataclass
class Finding:
    at: Node | Span
    message: str
    help: str | None = None
    fix: Fix | None = None  # built with lora_lint.fix.edits from the nodes the finding is about


Check = Callable[["LintContext"], Iterator[Finding]]
CHECKS: dict[str, Check] = {}


def rule(code: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS[code] = check
        return check

    return register


_all_imported = False


def load_checks() -> dict[str, Check]:
    global _all_imported
    # Not `if not CHECKS`: a rule module imported on its own has registered its check alone.
    if not _all_imported:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _all_imported = True
    return CHECKS
