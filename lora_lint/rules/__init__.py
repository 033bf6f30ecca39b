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


_loaded = False


def load_checks() -> dict[str, Check]:
    # A flag, not `if not CHECKS`: another module may have imported one rule already (the JSON Schema reads
    # LL103's table), which must not hide the others.
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return CHECKS
