"""Flat `peft.LoraConfig` keys in YAML or JSON, including a saved `adapter_config.json`: no trainer in between.

The keys may sit at the top level or in one conventional sub-mapping (`lora_config:`, `peft_config:`, `peft:`,
`lora:`), as in training scripts that call `LoraConfig(**cfg["lora_config"])`. They reach LoraConfig as written.
"""

from __future__ import annotations

from lora_lint.config import LoraConfigView, TrainerReading, mapping_settings, single_run
from lora_lint.peft_schema import PEFT_TYPE_LORA, peft_knowledge
from lora_lint.source import Node

NAME = "peft"

_SECTION_KEYS = ("lora_config", "peft_config", "peft", "lora")
_CORE_KEYS = {"r", "lora_alpha", "target_modules"}
# Share of a mapping's keys that must be LoraConfig fields before we call it a LoRA config: below it, the file
# is some project's own schema, which we would only drown in unknown-key reports.
_MIN_KNOWN_SHARE = 0.6


def _lora_section(node: Node) -> bool:
    if node.kind != "map" or not node.pairs:
        return False
    keys = {str(k.value) for k, _ in node.pairs if k.kind == "scalar"}
    if not keys:
        return False  # only complex keys (`? [a, b]`): no LoraConfig field
    peft_type = node.get("peft_type")
    if peft_type is not None and peft_type.kind == "scalar":
        return str(peft_type.value).upper() == PEFT_TYPE_LORA
    known = peft_knowledge()
    share = sum(1 for key in keys if known.field_known(key)) / len(keys)
    return bool(keys & _CORE_KEYS) and share >= _MIN_KNOWN_SHARE


def read(root: Node, force: bool) -> TrainerReading | None:
    candidates = [(root, None)] + [(root.get(key), root.key_node(key)) for key in _SECTION_KEYS]
    section, section_key = next(((node, key) for node, key in candidates
                                 if node is not None and _lora_section(node)), (None, None))
    if section is None:
        if not force:
            return None
        section = root
    view = LoraConfigView(NAME, section, mapping_settings(section), {}, section_key=section_key)
    view.model_ref = view.settings.get("base_model_name_or_path")
    if view.model_ref is None and section is not root:
        view.model_ref = mapping_settings(root).get("model_name_or_path")
    if "trust_remote_code" in (root_settings := mapping_settings(root)):
        view.extras["trust_remote_code"] = root_settings["trust_remote_code"]
    return single_run(view, NAME)


def json_schema(lora_section: dict) -> dict:
    """Flat LoraConfig keys, as in adapter_config.json."""
    return lora_section
