"""Decide cheaply whether a file found by walking can hold a LoRA config, before ruamel composes it.

Composing YAML with positions costs ~100x what `json.loads` does (a 10 MB tokenizer.json took 30 s and 900 MB), and
a repository holds many big JSON/YAML files that are not configs. JSON is loaded with `json.loads` and the dialects'
own detection runs on its top levels; big YAML files must at least mention LoRA. Files that may be configs go on
to the full positional parse, which has the last word.
"""

from __future__ import annotations

from typing import Any

from lora_lint.diagnostics import FILE_START
from lora_lint.source import Node

NOT_LORA = "not a LoRA config"
# Below this size composing a YAML file costs a few milliseconds: no need to guess.
SMALL_YAML_BYTES = 64 * 1024
_LORA_WORDS = ("lora", "target_modules", "peft", "adapter", "finetuning_type")
# Detection looks at the top-level keys, a section's keys and the scalars in a section (`peft_type: LORA`).
_DETECTION_DEPTH = 2


def skip_reason(name: str, data: bytes, forced_dialect: str | None) -> str | None:
    """Why a walked file is certainly not a config lora-lint reads (NOT_LORA or a dialect not read yet), or None
    when it needs the full parse."""
    if b"\x00" in data[:8192]:  # binary (a walked file over the size limit was never read)
        return NOT_LORA
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return NOT_LORA
    if name.lower().endswith(".json"):
        import json

        try:
            loaded = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return None  # the full parse reports it if it mentions LoRA
        if not isinstance(loaded, dict):
            return NOT_LORA
        return _detected(_shallow(loaded, 0), forced_dialect)
    if forced_dialect is None and len(data) > SMALL_YAML_BYTES:
        lowered = text.lower()
        if not any(word in lowered for word in _LORA_WORDS):
            return NOT_LORA
    return None


def _detected(root: Node, forced_dialect: str | None) -> str | None:
    from lora_lint.trainers import detect

    return None if detect(root, forced_dialect) is not None else NOT_LORA


def _shallow(value: Any, depth: int) -> Node:
    """The loaded JSON as nodes, down to what detection reads; deeper containers and lists are left empty."""
    if isinstance(value, dict):
        node = Node("map", FILE_START)
        if depth < _DETECTION_DEPTH:
            node.pairs = [(Node("scalar", FILE_START, value=key, text=key), _shallow(item, depth + 1))
                          for key, item in value.items()]
        return node
    if isinstance(value, list):
        return Node("seq", FILE_START)  # detection never looks inside a list
    return Node("scalar", FILE_START, value=value, text="" if value is None else str(value))
