"""The normalized LoRA config: what every dialect maps onto, so rules never deal with dialect details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lora_lint.peft_schema import FIELD_TYPES, matches_type
from lora_lint.source import Node


@dataclass
class Setting:
    """One key of the config and its value, with the nodes that locate both in the source."""

    key: str
    key_node: Node
    value_node: Node
    sweep: bool = False  # the value lists alternatives, one per run (the toolkit's ablation studies)

    @property
    def value(self) -> Any:
        return self.value_node.to_python()

    def variants(self) -> list[Node]:
        """The value nodes a run can receive: each alternative of a sweep, else the value itself."""
        return self.value_node.items if self.sweep else [self.value_node]


@dataclass
class LoraConfigView:
    dialect: str
    section: Node  # the mapping that holds the LoRA keys
    settings: dict[str, Setting]  # every key written in that mapping (the last one when duplicated)
    defaults: dict[str, Any]  # what the trainer passes to LoraConfig for keys the file leaves out
    model_ref: Setting | None = None  # the base model the config fine-tunes
    # Settings outside the LoRA section that some rules check (torch dtypes, trust_remote_code, ...).
    extras: dict[str, Setting] = field(default_factory=dict)
    section_key: Node | None = None  # the key that opens the section (`lora:`), None for top-level keys
    default_model: str | None = None  # what the trainer fine-tunes when the file names no base model

    @property
    def anchor(self) -> Node:
        """Where to report about a setting the file leaves out: the section's key, else its first key."""
        if self.section_key is not None:
            return self.section_key
        return self.section.pairs[0][0] if self.section.pairs else self.section

    def has(self, key: str) -> bool:
        return key in self.settings

    def value(self, key: str) -> Any:
        """The value LoraConfig receives: as written, else the dialect's default, else None. A value of the wrong
        type reads as None here: invalid-type reports it, and other rules reason only about well-typed values."""
        value = self.settings[key].value if key in self.settings else self.defaults.get(key)
        expected = FIELD_TYPES.get(key)
        if expected is not None and not any(matches_type(value, t) for t in expected):
            return None
        return value


def mapping_settings(section: Node) -> dict[str, Setting]:
    settings: dict[str, Setting] = {}
    for key_node, value_node in section.pairs:
        key = str(key_node.value) if key_node.kind == "scalar" else key_node.text
        settings[key] = Setting(key, key_node, value_node)
    return settings


def lora_kwargs(view: LoraConfigView) -> dict[str, Any]:
    """The keyword arguments the trainer passes to peft.LoraConfig: the dialect's defaults, then what is written
    (the first alternative of a sweep)."""
    kwargs = {key: value for key, value in view.defaults.items() if value is not None}
    for key, setting in view.settings.items():
        kwargs[key] = setting.variants()[0].to_python() if setting.variants() else setting.value
    return kwargs
