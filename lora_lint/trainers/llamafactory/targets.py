"""The LoRA targets of LLaMA-Factory 0.9.5 that depend on the model, computed on a stored inventory.

model/adapter.py `_setup_lora_tuning`: `lora_target: all` (alone) is model_utils/misc.py `find_all_linear_modules`:
the leaf names of modules whose class name contains `Linear` and not `Embedding`, skipping modules whose full name
contains `lm_head` (and `output_layer` for chatglm, `output` for internlm2), and for a composite (multimodal)
model type also its projector and, with `freeze_vision_tower` (the default), its vision tower. Then, for a
composite model type only, model_utils/visual.py `patch_target_modules` turns the targets into the FULL names of
every module whose name CONTAINS a target as a substring, minus the frozen parts and the LoRA-conflict keys.
"""

from __future__ import annotations

from typing import Any

# model_utils/visual.py `_register_composite_model` calls: model_type -> (projector_keys, vision_model_keys,
# language_model_keys, lora_conflict_keys).
COMPOSITE_MODELS: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "dots_ocr": (['vision_tower.merger'], ['vision_tower'],
        ['model', 'lm_head'], ['merger']),
    "gemma3": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "gemma3n": (['multi_modal_projector'], ['vision_tower', 'audio_tower'],
        ['language_model', 'lm_head'], ['timm_model', 'subsample_conv_projection']),
    "gemma4": (['model.embed_vision', 'model.embed_audio'], ['vision_tower', 'audio_tower'],
        ['language_model', 'lm_head'], ['per_layer_projection_norm']),
    "glm4v": (['visual.merger'], ['visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "glm4v_moe": (['visual.merger'], ['visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "glm_ocr": (['visual.merger'], ['visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "internvl": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "interns1": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "Keye": (['mlp_AR'], ['visual.vision_model.patch_embedding', 'visual.vision_model.encoder'],
        ['model', 'lm_head'], ['patch_embedding']),
    "kimi_vl": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "llama4": (['multi_modal_projector'], ['vision_model'],
        ['language_model', 'lm_head'], []),
    "llava": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "llava_next": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "llava_next_video": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "minicpmv": (['resampler'], ['vpm'],
        ['llm'], []),
    "minicpmv4_6": (['model.merger'], ['model.vision_tower'],
        ['model.language_model', 'lm_head'], []),
    "minicpmo": (['resampler'], ['vpm', 'apm', 'audio_avg_pooler', 'audio_projection_layer', 'tts'],
        ['llm'], ['audio_projection_layer']),
    "mistral3": (['model.multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "mllama": (['multi_modal_projector'], ['vision_model'],
        ['language_model', 'lm_head'], []),
    "paligemma": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
    "qwen2_audio": (['multi_modal_projector'], ['audio_tower'],
        ['language_model', 'lm_head'], []),
    "qwen2_5_omni_thinker": (['visual.merger', 'audio_tower.proj'], ['visual.patch_embed', 'visual.blocks', 'audio_tower'],
        ['model', 'lm_head'], ['patch_embed']),
    "qwen2_vl": (['visual.merger'], ['visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "qwen2_5_vl": (['visual.merger'], ['visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "qwen3_vl": (['visual.merger'], ['visual.pos_embed', 'visual.patch_embed', 'visual.blocks', 'visual.deepstack_merger_list'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "qwen3_vl_moe": (['visual.merger'], ['visual.pos_embed', 'visual.patch_embed', 'visual.blocks', 'visual.deepstack_merger_list'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "qwen3_omni_moe_thinker": (['visual.merger', 'audio_tower.proj'], ['visual.pos_embed', 'visual.patch_embed', 'visual.blocks', 'visual.deepstack_merger_list', 'audio_tower'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "qwen3_5": (['model.visual.merger'], ['visual.pos_embed', 'visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "qwen3_5_moe": (['model.visual.merger'], ['visual.pos_embed', 'visual.patch_embed', 'visual.blocks'],
        ['language_model', 'lm_head'], ['patch_embed']),
    "video_llava": (['multi_modal_projector'], ['vision_tower'],
        ['language_model', 'lm_head'], []),
}


def find_all_linear_modules(inventory: dict, freeze_vision_tower: Any) -> list[str]:
    model_type = inventory.get("model_type")
    forbidden = {"lm_head"}
    if model_type == "chatglm":
        forbidden.add("output_layer")
    elif model_type == "internlm2":
        forbidden.add("output")
    if model_type in COMPOSITE_MODELS:
        forbidden.update(COMPOSITE_MODELS[model_type][0])
    if freeze_vision_tower and model_type in COMPOSITE_MODELS:
        forbidden.update(COMPOSITE_MODELS[model_type][1])
    return linear_leaf_names(inventory, forbidden)


def linear_leaf_names(inventory: dict, forbidden) -> list[str]:
    """The scan both layouts share: leaf names of modules whose class says Linear (not Embedding), leaving out any
    module whose full name contains a forbidden word."""
    names: list[str] = []
    for module in inventory["modules"]:
        name, cls = module["name"], module["class"]
        if any(word in name for word in forbidden):
            continue
        if "Linear" in cls and "Embedding" not in cls and name.split(".")[-1] not in names:
            names.append(name.split(".")[-1])
    return sorted(names)


def forbidden_modules(model_type: str, args: dict) -> set[str]:
    """visual.py `get_forbidden_modules`: the parts the flags freeze."""
    projector, vision, language, _ = COMPOSITE_MODELS[model_type]
    forbidden: set[str] = set()
    if args["freeze_vision_tower"]:
        forbidden.update(vision)
    if args["freeze_multi_modal_projector"]:
        forbidden.update(projector)
    if args["freeze_language_model"]:
        forbidden.update(language)
    return forbidden


def patch_target_modules(inventory: dict, args: dict, targets: list) -> list:
    model_type = inventory.get("model_type")
    if model_type not in COMPOSITE_MODELS:
        return targets
    forbidden = forbidden_modules(model_type, args) | set(COMPOSITE_MODELS[model_type][3])
    return [module["name"] for module in inventory["modules"]
            if any(target in module["name"] for target in targets)
            and not any(word in module["name"] for word in forbidden)]


def model_targets(inventory: dict, args: dict) -> list:
    """`target_modules` as adapter.py passes it to LoraConfig on this model."""
    from lora_lint.trainers.llamafactory.arguments import scans_all

    targets = args["lora_target"]
    if scans_all(targets):
        targets = find_all_linear_modules(inventory, args["freeze_vision_tower"])
    return patch_target_modules(inventory, args, targets)
