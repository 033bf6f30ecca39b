"""A structure-preserving miniature of a base model: the same class, module names, module classes and layer count as
the real model, with tiny widths and random weights, so one real training step runs on a CPU in seconds.

Widths are shrunk through the config, never by editing modules, so the miniature is what transformers itself builds
from a valid config. Only keys that size tensors change; keys that decide which modules exist (layer counts, layer
types, tied embeddings, experts held as a module list) are kept.
"""

from __future__ import annotations

import copy
from typing import Any

HIDDEN = 64
HEADS = 4  # HIDDEN / HEADS = 16: even rotary sizes under partial rotary factors such as phi's 0.4
INTERMEDIATE = 96
VOCAB = 256
POSITIONS = 64
EXPERTS = 4
EXPERT_INTERMEDIATE = 32

# Model width, by the names architectures give it.
_HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "dim", "n_embed")
_HEAD_KEYS = ("num_attention_heads", "n_head", "num_heads", "n_heads", "encoder_attention_heads",
              "decoder_attention_heads")
_INTERMEDIATE_KEYS = ("intermediate_size", "n_inner", "d_ff", "ffn_dim", "hidden_dim", "encoder_ffn_dim",
                      "decoder_ffn_dim", "shared_expert_intermediate_size")
_POSITION_KEYS = ("max_position_embeddings", "n_positions", "n_ctx")
# Keys that equal the model width in the real config and must keep doing so (OPT's projection, DeBERTa's pooler).
_FOLLOW_HIDDEN_KEYS = ("word_embed_proj_dim", "pooler_hidden_size", "embedding_size")
_TOKEN_ID_KEYS = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "sep_token_id",
                  "cls_token_id", "mask_token_id", "unk_token_id")


class NotMiniaturisable(Exception):
    """The model's config cannot be shrunk into a buildable miniature; the message says why."""


def miniature_config(config: dict, experts_as_modules: bool = False) -> tuple[dict, dict]:
    """The shrunk config.json dict, and the shape that changed ({key: (full, miniature)}) for the report.
    `experts_as_modules`: the model holds one module per expert (names carry the expert index), so the expert
    count is kept; fused 3-d experts (transformers 5 Mixtral, Qwen-MoE) are shrunk with everything else."""
    if not isinstance(config.get("model_type"), str):
        raise NotMiniaturisable("config.json has no model_type")
    mini = copy.deepcopy(config)
    shape: dict[str, tuple[Any, Any]] = {}

    def set_key(key: str, value: Any) -> None:
        if key in mini and mini[key] != value:
            shape[key] = (mini[key], value)
        mini[key] = value

    full_hidden = next((config[k] for k in _HIDDEN_KEYS if _is_int(config.get(k))), None)
    for key in _HIDDEN_KEYS:
        if _is_int(config.get(key)):
            set_key(key, HIDDEN)
    full_heads = next((config[k] for k in _HEAD_KEYS if _is_int(config.get(k))), None)
    for key in _HEAD_KEYS:
        if _is_int(config.get(key)):
            set_key(key, HEADS)
    if _is_int(config.get("num_key_value_heads")) and full_heads:
        # Grouped-query attention stays grouped (fewer KV heads than query heads) when the real model groups.
        kv = config["num_key_value_heads"]
        set_key("num_key_value_heads", HEADS if kv >= full_heads else max(1, HEADS * kv // full_heads))
    if _is_int(config.get("head_dim")):
        set_key("head_dim", HIDDEN // HEADS)
    if _is_int(config.get("d_kv")):
        set_key("d_kv", HIDDEN // HEADS)
    if _is_int(config.get("rotary_dim")):
        set_key("rotary_dim", HIDDEN // HEADS // 2)
    for key in _INTERMEDIATE_KEYS:
        if _is_int(config.get(key)):
            set_key(key, INTERMEDIATE)
    for key in _FOLLOW_HIDDEN_KEYS:
        if _is_int(config.get(key)):
            set_key(key, HIDDEN if config[key] == full_hidden else HIDDEN // 2)
    for key in _POSITION_KEYS:
        if _is_int(config.get(key)):
            set_key(key, POSITIONS + (2 if config.get("model_type") in ("roberta", "xlm-roberta") else 0))
    if _is_int(config.get("vocab_size")):
        set_key("vocab_size", VOCAB)
        for key in _TOKEN_ID_KEYS:
            mini[key] = _small_token_id(config.get(key))
    _shrink_experts(mini, set_key, experts_as_modules)
    if _is_int(config.get("moe_intermediate_size")):
        set_key("moe_intermediate_size", EXPERT_INTERMEDIATE)
    if isinstance(config.get("rope_scaling"), dict):
        rope = mini["rope_scaling"]
        if _is_int(rope.get("original_max_position_embeddings")):
            rope["original_max_position_embeddings"] = POSITIONS
    for key in ("sliding_window", "window_size", "position_buckets"):
        if _is_int(config.get(key)) and config[key] > POSITIONS:
            set_key(key, POSITIONS // 2)
    mini.pop("quantization_config", None)  # real quantised kernels need a GPU; the miniature is plain float
    for key in ("torch_dtype", "dtype"):  # half precision on a CPU is slow and some heads stay in float32
        mini.pop(key, None)
    return mini, shape


def _shrink_experts(mini: dict, set_key, experts_as_modules: bool) -> None:
    for key in ("num_local_experts", "num_experts", "n_routed_experts"):
        if _is_int(mini.get(key)) and not experts_as_modules:
            set_key(key, min(mini[key], EXPERTS))
    experts = next((mini[k] for k in ("num_local_experts", "num_experts", "n_routed_experts") if _is_int(mini.get(k))),
                   None)
    if experts is not None and _is_int(mini.get("num_experts_per_tok")):
        set_key("num_experts_per_tok", min(mini["num_experts_per_tok"], experts))


def _small_token_id(value: Any) -> Any:
    """Special token ids index the embedding: keep them inside the miniature's vocabulary, distinct as far as they
    were distinct."""
    if isinstance(value, list):
        return [_small_token_id(v) for v in value]
    if _is_int(value) and value >= VOCAB:
        return VOCAB - 1 - value % 16
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def has_expert_modules(inventory: dict) -> bool:
    """Whether the model holds its experts as numbered modules (`experts.0.w1`), whose names the count decides."""
    return any(".experts.0." in m["name"] or m["name"].endswith(".experts.0") for m in inventory["modules"])


def build_miniature(config: dict, model_class: str, *, trust_remote_code: bool = False, seed: int = 0) -> Any:
    """The miniature model with random weights on the CPU (seeded, so a rerun builds the same one). A model that
    exists only as its repository's code is built only when `trust_remote_code` is given on the command line."""
    import torch

    from lora_lint.model.inventory import quiet_transformers
    from lora_lint.model.loading import InventoryBuildError, config_and_class

    torch.manual_seed(seed)
    with quiet_transformers():
        try:
            hf_config, model_cls = config_and_class(config, model_class, trust_remote_code, None, None)
        except InventoryBuildError as exc:
            raise NotMiniaturisable(str(exc)) from exc
        try:
            model = model_cls(hf_config)
        except Exception as exc:  # the config is user data: any failure of the model code is a diagnostic
            raise NotMiniaturisable(f"{model_cls.__name__} cannot be built at miniature widths: "
                                    f"{type(exc).__name__}: {exc}") from exc
    return model.float()
