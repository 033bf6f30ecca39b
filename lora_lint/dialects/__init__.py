"""Config dialects. Each module maps one file layout onto a LoraConfigView; adding a dialect is adding a module."""

from __future__ import annotations

from lora_lint.config import LoraConfigView
from lora_lint.dialects import llmtune, peft
from lora_lint.source import Node

# Detection order matters: an llmtune file also holds a mapping that looks like flat PEFT keys.
DIALECTS = {module.NAME: module for module in (llmtune, peft)}

# Layouts we recognise but cannot read yet, so a user who names such a file hears why it is not linted.
_NOT_YET_READ = {
    "axolotl": lambda root: root.get("adapter") is not None and root.get("lora_r") is not None,
    "LLaMA-Factory": lambda root: root.get("finetuning_type") is not None
    or (root.get("model_class") is not None and root.get("peft_config") is not None),
}


def detect(root: Node, forced: str | None = None) -> LoraConfigView | None:
    if root.kind != "map":
        return None
    if forced is not None:
        return DIALECTS[forced].read(root, force=True)
    if unsupported_dialect(root) is not None:
        return None
    for module in DIALECTS.values():
        view = module.read(root, force=False)
        if view is not None:
            return view
    return None


def unsupported_dialect(root: Node) -> str | None:
    if root.kind != "map":
        return None
    return next((name for name, looks_like in _NOT_YET_READ.items() if looks_like(root)), None)
