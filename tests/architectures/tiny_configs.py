"""Tiny configs for every model type the installed transformers maps to a task class, as a checkpoint would ship them.

`AutoConfig.for_model(model_type)` gives the model type's default config; shrinking cuts what costs time on the meta
device (layers, experts, vision depth) and keeps every dimension the model code checks against another one. Lists
that hold one entry per layer (`layer_types`, ...) are cut with the layer count. A config that the model code rejects
after shrinking is shrunk less, then not at all: the sweep needs a config transformers itself can build.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

# Auto class per task mapping, in the order a type's class is chosen.
TASK_CLASSES = (
    ("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "AutoModelForCausalLM", "CAUSAL_LM"),
    ("MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", "AutoModelForSeq2SeqLM", "SEQ_2_SEQ_LM"),
    ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "AutoModelForImageTextToText", None),
    ("MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES", "AutoModelForSequenceClassification", "SEQ_CLS"),
)

_LAYER_KEYS = frozenset({
    "num_hidden_layers", "num_layers", "n_layer", "n_layers", "encoder_layers", "decoder_layers",
    "num_decoder_layers", "num_encoder_layers", "depth", "num_text_layers", "num_vision_layers",
    "text_num_layers", "vision_num_layers", "num_blocks",
})  # fmt: skip
_EXPERT_KEYS = frozenset({
    "num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts", "num_routed_experts",
})  # fmt: skip
_TOP_K_KEYS = frozenset({"num_experts_per_tok", "moe_k", "top_k", "num_selected_experts", "moe_topk"})


def sweep_classes(model_type: str) -> list[tuple[str, str | None]]:
    """The (Auto class, PEFT task_type) pairs the sweep loads `model_type` with: the first task mapping that has it
    (sequence classification first for an encoder, which is what encoders are fine-tuned for), and image-text-to-text
    too for a multimodal type whose first class is its text-only causal LM."""
    from transformers.models.auto import modeling_auto

    mapped = [(auto_class, task_type) for mapping, auto_class, task_type in TASK_CLASSES
              if model_type in getattr(modeling_auto, mapping)]
    if model_type in modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        mapped.sort(key=lambda pair: pair[0] != "AutoModelForSequenceClassification")
    classes = mapped[:1]
    if mapped and mapped[0][0] == "AutoModelForCausalLM":
        classes += [pair for pair in mapped if pair[0] == "AutoModelForImageTextToText"]
    return classes


def swept_model_types() -> list[str]:
    """Every model type with a causal-LM, seq2seq, image-text-to-text or sequence-classification class."""
    from transformers.models.auto import modeling_auto

    types = set()
    for mapping, _, _ in TASK_CLASSES:
        types |= set(getattr(modeling_auto, mapping))
    return sorted(types)


def default_config(model_type: str) -> dict:
    from transformers import AutoConfig

    return AutoConfig.for_model(model_type).to_dict()


def shrink(config: dict, layers: int | None, experts: bool = True) -> dict:
    """A copy of a config dict with at most `layers` layers per stack (None: layers kept) and, with `experts`, at
    most 4 experts (2 per token), in the config and every sub-config."""
    config = copy.deepcopy(config)
    _shrink_in_place(config, layers, experts)
    return config


def _shrink_in_place(config: dict, layers: int | None, experts: bool) -> None:
    cut = {}
    for key, value in list(config.items()):
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        if layers is not None and key in _LAYER_KEYS and value > layers:
            cut[value] = layers
            config[key] = layers
        elif experts and key in _EXPERT_KEYS and value > 4:
            config[key] = 4
        elif experts and key in _TOP_K_KEYS and value > 2:
            config[key] = 2
    for key, value in list(config.items()):
        if isinstance(value, list) and len(value) in cut:
            config[key] = value[: cut[len(value)]]
        elif isinstance(value, dict):
            _shrink_in_place(value, layers, experts)


def saved_tiny_model(model_type: str, auto_class: str, directory: Path) -> tuple[Any, str]:
    """Save the tiny config of `model_type` to `directory` and build `auto_class` from it the way a trainer does
    (`AutoConfig.from_pretrained`, `from_config` on the meta device, tied weights tied). Shrinks as far as the model
    code accepts; returns the model and how far the config was shrunk. Raises what transformers raises when even the
    default config cannot be built."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    config_class = CONFIG_MAPPING[model_type]
    original = default_config(model_type)
    last_error: Exception | None = None
    for layers, experts, label in ((2, True, "2 layers"), (4, True, "4 layers"), (None, True, "default layers"),
                                   (None, False, "default config")):
        try:
            config = config_class.from_dict(shrink(original, layers, experts))
            config.architectures = [_mapped_class_name(config, auto_class)]  # as a checkpoint names its class
            config.save_pretrained(directory)
            return reference_model(directory, auto_class), label
        except Exception as exc:  # noqa: BLE001 -- a shrink the model code rejects: shrink less
            last_error = exc
    assert last_error is not None
    raise last_error


def _mapped_class_name(config: Any, auto_class: str) -> str:
    import transformers
    from transformers.models.auto.auto_factory import _get_model_class

    return _get_model_class(config, getattr(transformers, auto_class)._model_mapping).__name__


def reference_model(directory: Path, auto_class: str) -> Any:
    """What the trainer loads, on the meta device: its config read by AutoConfig.from_pretrained, its class picked by
    the Auto class's from_config, buffers on meta too where the model code allows it."""
    import transformers
    from accelerate import init_empty_weights

    config = transformers.AutoConfig.from_pretrained(directory)
    auto = getattr(transformers, auto_class)
    try:
        with init_empty_weights(include_buffers=True):
            model = auto.from_config(config)
    except Exception:  # noqa: BLE001 -- model code that computes with a buffer while it builds needs real buffers
        with init_empty_weights():
            model = auto.from_config(config)
    model.tie_weights()
    return model
