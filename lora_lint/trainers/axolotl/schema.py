"""axolotl 0.21.0's schema for the keys that decide the LoRA run, field for field from `utils/schemas/peft.py`
(`LoraConfig`, `PeftConfig`, `LoftQConfig`) and `utils/schemas/model.py` (`base_model`, `model_type`).

Validated with pydantic itself, as axolotl's `AxolotlInputConfig` does (lax mode, unknown fields ignored), so every
coercion and type rejection here is pydantic's own. The rest of axolotl's ~420 top-level fields are known by name
only (lora_lint/data/axolotl_fields.json, the merged schema with its built-in plugins): lora-lint checks that they
exist, not their values. tests/trainers/test_axolotl_vs_axolotl.py checks both against the installed axolotl.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class LoftQConfig(BaseModel):
    loftq_bits: int = 4


class PeftConfig(BaseModel):
    loftq_config: LoftQConfig | None = None


class AxolotlLora(BaseModel):
    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())

    base_model: str
    type_of_model: str | None = Field(default=None, alias="model_type")
    trust_remote_code: bool | None = None
    load_in_8bit: bool | None = False
    load_in_4bit: bool | None = False
    adapter: str | None = None
    lora_model_dir: str | None = None
    lora_r: int | None = None
    lora_alpha: int | None = None
    lora_fan_in_fan_out: bool | None = None
    lora_target_modules: str | list[str] | None = None
    lora_target_parameters: str | list[str] | None = None
    lora_target_linear: bool | None = None
    lora_modules_to_save: list[str] | None = None
    lora_rank_pattern: dict[str, PositiveInt] | None = None
    lora_alpha_pattern: dict[str, PositiveInt] | None = None
    lora_dropout: float | None = 0.0
    peft_layers_to_transform: list[int] | None = None
    peft_layers_pattern: list[str] | None = None
    peft: PeftConfig | None = None
    peft_use_dora: bool | None = None
    peft_use_rslora: bool | None = None
    peft_layer_replication: list[tuple[int, int]] | None = None
    peft_init_lora_weights: bool | str | None = None
    peft_trainable_token_indices: list[int] | dict[str, list[int]] | None = None
    peft_ensure_weight_tying: bool | None = None
    gptq: bool | None = None
    merge_lora: bool | None = None
    nf4_backend: Literal["bitsandbytes", "torchao"] = "bitsandbytes"


# The file keys this module validates (model_type is the alias axolotl's files use for type_of_model).
FIELDS = {name if name != "type_of_model" else "model_type" for name in AxolotlLora.model_fields}


# Generated from the installed axolotl (tests/trainers/test_axolotl_vs_axolotl.py checks it is current).
FIELD_NAMES = Path(__file__).resolve().parents[2] / "data" / "axolotl_fields.json"


@lru_cache(maxsize=1)
def all_fields() -> frozenset[str]:
    """Every top-level key axolotl's merged schema has (field names and aliases)."""
    return frozenset(json.loads(FIELD_NAMES.read_text(encoding="utf-8")))


def validate(data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[dict]]:
    """The LoRA fields as axolotl's schema validates them, defaults included: (the fields by file key, pydantic's
    errors)."""
    from pydantic import ValidationError

    given = {key: value for key, value in data.items() if key in FIELDS}
    try:
        model = AxolotlLora.model_validate(given)
    except ValidationError as exc:
        return None, exc.errors()
    return model.model_dump(by_alias=True), []
