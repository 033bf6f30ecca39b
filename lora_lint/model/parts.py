"""The parts of a model an inventory marks: which layer stack a layer list is, and, in a multimodal model, which
modules are its vision (or audio) tower, its projector and its language model.

`describe_parts` needs the built model (torch); `part_of` and `PART_KINDS` read a stored inventory and are torch-free.
"""

from __future__ import annotations

import re
from typing import Any

# What a part is: a tower encodes one modality, the projector maps it into the language model's space.
PART_KINDS = ("language_model", "vision_tower", "audio_tower", "projector")

# Sub-config key of a composite config -> the part a sub-model built on it is.
_SUB_CONFIG_PARTS = {
    "text_config": "language_model",
    "vision_config": "vision_tower",
    "audio_config": "audio_tower",
    "speech_config": "audio_tower",
    "encoder_config": "audio_tower",
}
# Module names of projectors between a tower and the language model (LLaVA's multi_modal_projector, Idefics'
# connector, Qwen2-VL's merger, InternVL's mlp1, ...).
_PROJECTOR_NAME = re.compile(
    r"(multi_modal_projector|mm_projector|projector|connector|merger|aligner|mlp1|vision_projection|"
    r"visual_projection|image_projection|audio_projection|embed_vision|embed_audio)$"
)


def describe_parts(model: Any) -> list[dict]:
    """[{"path", "part", "class"}] in module order, for a model composed of sub-models (a multimodal one); [] for a
    plain language model. A sub-model's part comes from the sub-config it is built on; projectors from their name."""
    from transformers import PreTrainedModel

    root_config = model.config
    sub_configs = {}
    for key in getattr(root_config, "sub_configs", {}):
        sub_config = getattr(root_config, key, None)
        if sub_config is not None:
            sub_configs[id(sub_config)] = _SUB_CONFIG_PARTS.get(key, key.removesuffix("_config"))
    if not sub_configs:
        return []
    parts = []
    for name, module in model.named_modules():
        if not name:
            continue
        part = None
        if isinstance(module, PreTrainedModel):
            part = sub_configs.get(id(module.config))
        if part is None and _PROJECTOR_NAME.search(name.rpartition(".")[2]):
            part = "projector"
        if part is not None and not any(name.startswith(p["path"] + ".") and p["part"] == part for p in parts):
            parts.append({"path": name, "part": part, "class": type(module).__name__})
    return parts


def part_of(inventory: dict, module_name: str) -> str | None:
    """The innermost part that holds `module_name` (a projector inside a vision tower is the projector), or None
    when the inventory marks none (plain language models, and inventories stored before parts were marked)."""
    best = None
    for part in inventory.get("parts", ()):
        path = part["path"]
        if module_name == path or module_name.startswith(path + "."):
            if best is None or len(path) > len(best["path"]):
                best = part
    return best["part"] if best is not None else None


def unlabelled_stack(model_type: str, can_generate: bool) -> str:
    """The stack a layer list belongs to when its path names none (`model.layers`, `transformer.h`, ...)."""
    from transformers.models.auto import modeling_auto

    if model_type in modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "encoder"
    if model_type in modeling_auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or can_generate:
        return "decoder"
    return "other"


def stack_of(path: str, unlabelled: str, part: str | None = None) -> str:
    """The stack a layer list is: the part that holds it when marked, else what its path names."""
    if part in ("vision_tower", "audio_tower"):
        return "vision" if part == "vision_tower" else "audio"
    if part == "language_model":
        return "text"
    segments = path.split(".")
    if any(marker in segment for segment in segments for marker in ("vision", "visual", "image")):
        return "vision"
    if any(segment.startswith("text") or "language_model" in segment for segment in segments):
        return "text"
    for segment in reversed(segments):  # the innermost named stack wins: T5's encoder.block.0.layer is the encoder's
        if "encoder" in segment:
            return "encoder"
        if "decoder" in segment:
            return "decoder"
    return unlabelled
