"""LLM-Finetuning-Toolkit (`llmtune`) configs: `model.hf_model_ckpt` plus a `lora:` section passed to LoraConfig."""

from __future__ import annotations

from lora_lint.config import LoraConfigView, Setting, mapping_settings
from lora_lint.peft_schema import FIELD_TYPES
from lora_lint.source import Node

NAME = "llmtune"

# The toolkit's pydantic schema defaults (llmtune/pydantic_models/config_model.py, LoraConfig): these reach
# peft.LoraConfig even when the file leaves the key out.
DEFAULTS = {
    "r": 8,
    "task_type": "CAUSAL_LM",
    "lora_alpha": 16,
    "bias": "none",
    "lora_dropout": 0.1,
    "target_modules": "all-linear",
    "fan_in_fan_out": False,
    "modules_to_save": None,
    "layers_to_transform": None,
    "layers_pattern": None,
}

# The schema default of model.hf_model_ckpt: what the toolkit trains when the file names no model.
DEFAULT_MODEL = "NousResearch/Llama-2-7b-hf"

_TOP_LEVEL_SECTIONS = {"data", "training", "inference", "ablation", "qa", "save_dir"}


def read(root: Node, force: bool) -> LoraConfigView | None:
    section = root.get("lora")
    model = root.get("model")
    has_ckpt = model is not None and model.kind == "map" and model.get("hf_model_ckpt") is not None
    toolkit_sections = sum(1 for key in _TOP_LEVEL_SECTIONS if root.get(key) is not None)
    looks_like_toolkit = section is not None and (
        has_ckpt or toolkit_sections >= 2 or {str(k.value) for k, _ in root.pairs} == {"lora"}
    )
    if not (looks_like_toolkit or force):
        return None
    if section is None or section.kind != "map":
        # `lora:` missing, null or not a mapping: the toolkit uses its defaults; rules report the shape.
        section = Node("map", (section or root).span)
    view = LoraConfigView(NAME, section, mapping_settings(section), dict(DEFAULTS), section_key=root.key_node("lora"),
                          default_model=DEFAULT_MODEL)
    if _ablation_on(root):
        for setting in view.settings.values():
            setting.sweep = _is_sweep(setting)
    if model is not None and model.kind == "map":
        model_settings = mapping_settings(model)
        view.model_ref = model_settings.get("hf_model_ckpt")
        for key in ("torch_dtype", "trust_remote_code"):
            if key in model_settings:
                view.extras[key] = model_settings[key]
        bnb = model.get("bitsandbytes")
        if bnb is not None and bnb.kind == "map":
            compute_dtype = mapping_settings(bnb).get("bnb_4bit_compute_dtype")
            if compute_dtype is not None:
                view.extras["bnb_4bit_compute_dtype"] = compute_dtype
    return view



def _ablation_on(root: Node) -> bool:
    ablation = root.get("ablation")
    use_ablate = ablation.get("use_ablate") if ablation is not None and ablation.kind == "map" else None
    return use_ablate is not None and use_ablate.value is True


def _is_sweep(setting: Setting) -> bool:
    """The toolkit's ablation rule: a list where the field takes no list, or a list of lists where it takes one."""
    node = setting.value_node
    if node.kind != "seq" or not node.items:
        return False
    takes_list = any(t.startswith("list") for t in FIELD_TYPES.get(setting.key, ()))
    return not takes_list or all(item.kind == "seq" for item in node.items)


def json_schema(lora_section: dict) -> dict:
    """A toolkit config: the LoRA keys under `lora:`, the base model under `model.hf_model_ckpt`."""
    return {
        "type": "object",
        "properties": {
            "lora": lora_section,
            "model": {"type": "object", "properties": {"hf_model_ckpt": {"type": "string"}}},
        },
    }
