"""The real axolotl's reading of a file (axolotl 0.21.0, installed with --no-deps, plus `addict`): `yaml.safe_load`,
`DictDefault`, the real `axolotl.utils.config.validate_config` (without GPU capabilities), then the LoraConfig
kwargs of `loaders/adapter.py`.

`axolotl.loaders.adapter` cannot be imported without axolotl's whole stack (it imports bitsandbytes, and through
`axolotl.telemetry` posthog, at module level), so its four functions that build the kwargs are transcribed here,
line for line: `_build_peft_lora_config` (up to the `LoraConfig(...)` call, whose kwargs are returned),
`_build_lora_config_kwargs`, `_get_peft_task_type` and `find_all_linear_names` (with the real
`axolotl.loaders.utils.get_linear_embedding_layers`; the bitsandbytes classes cannot occur on a meta skeleton).
`merge_input_args`, which rebuilds the plugin-merged schema classes on every call (0.15 s), is called once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
import yaml
from axolotl.integrations import config as integrations_config
from axolotl.loaders.utils import get_linear_embedding_layers
from axolotl.utils import config as axolotl_config
from axolotl.utils.dict import DictDefault

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGED = integrations_config.merge_input_args()
axolotl_config.merge_input_args = lambda: _MERGED


@dataclass
class Outcome:
    accepted: bool
    cfg: DictDefault | None = None
    error: str | None = None
    kwargs: dict = field(default_factory=dict)


def validate(text: str) -> Outcome:
    cfg = DictDefault(yaml.load(text, Loader=_Loader))
    logging.disable(logging.WARNING)  # axolotl's advice (`trust_remote_code` is set...) on every call
    try:
        return Outcome(True, axolotl_config.validate_config(cfg))
    except Exception as exc:  # axolotl raises ValueError, DeprecationWarning, ValidationError...
        return Outcome(False, error=f"{type(exc).__name__}: {exc}")
    finally:
        logging.disable(logging.NOTSET)


class _Model:
    """What `_build_peft_lora_config` reads of the model when it does not scan it: its class name and model_type."""

    def __init__(self, class_name: str, model_type: str):
        self.__class__ = type(class_name, (_Model,), {})
        self.config = DictDefault({"model_type": model_type})

    def named_modules(self):
        return iter(())  # the scan is compared on real skeletons (test_all_linear_scan_agrees)


def lora_kwargs(cfg: DictDefault, model) -> dict:
    """_build_peft_lora_config(model, cfg): the kwargs of its LoraConfig(...) call."""
    lora_target_modules = cfg.lora_target_modules or []
    lora_target_parameters = cfg.lora_target_parameters or []

    if cfg.lora_target_linear:
        linear_names = find_all_linear_names(model)
        lora_target_modules_as_list = (
            lora_target_modules if isinstance(lora_target_modules, list) else [lora_target_modules]
        )
        lora_target_modules = list(set(lora_target_modules_as_list + linear_names))

    lora_config_kwargs = _build_lora_config_kwargs(cfg)
    # PluginManager.get_lora_config_kwargs(cfg): no built-in plugin contributes kwargs to lora/qlora.
    return dict(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        target_modules=lora_target_modules,
        target_parameters=lora_target_parameters,
        layers_to_transform=cfg.peft_layers_to_transform,
        layers_pattern=cfg.peft_layers_pattern,
        lora_dropout=cfg.lora_dropout,
        fan_in_fan_out=cfg.lora_fan_in_fan_out,
        modules_to_save=cfg.lora_modules_to_save if cfg.lora_modules_to_save else None,
        exclude_modules=getattr(cfg, "lora_exclude_modules", None) or None,
        bias="none",
        task_type=_get_peft_task_type(model),
        **lora_config_kwargs,
    )


def _build_lora_config_kwargs(cfg: DictDefault) -> dict:
    lora_config_kwargs: dict = {}
    loftq_bits = cfg.peft and cfg.peft.loftq_config and cfg.peft.loftq_config.loftq_bits
    if loftq_bits:
        lora_config_kwargs["loftq_config"] = {"loftq_bits": loftq_bits, "loftq_iter": 1}  # LoftQConfig(...)
        lora_config_kwargs["init_lora_weights"] = "loftq"
    if cfg.peft_init_lora_weights:
        lora_config_kwargs["init_lora_weights"] = cfg.peft_init_lora_weights
    if cfg.peft_use_dora:
        lora_config_kwargs["use_dora"] = cfg.peft_use_dora
    if cfg.peft_use_rslora:
        lora_config_kwargs["use_rslora"] = cfg.peft_use_rslora
    if cfg.lora_rank_pattern:
        lora_config_kwargs["rank_pattern"] = cfg.lora_rank_pattern
    if cfg.lora_alpha_pattern:
        lora_config_kwargs["alpha_pattern"] = cfg.lora_alpha_pattern
    if cfg.peft_layer_replication:
        lora_config_kwargs["layer_replication"] = cfg.peft_layer_replication
    if cfg.peft_trainable_token_indices:
        lora_config_kwargs["trainable_token_indices"] = cfg.peft_trainable_token_indices
    if cfg.peft_ensure_weight_tying is not None:
        lora_config_kwargs["ensure_weight_tying"] = cfg.peft_ensure_weight_tying
    return lora_config_kwargs


def _get_peft_task_type(model) -> str | None:
    model_cls = type(model).__name__
    if "SequenceClassification" in model_cls:
        return "SEQ_CLS"
    if "TokenClassification" in model_cls:
        return "TOKEN_CLS"
    if getattr(getattr(model, "config", None), "model_type", None) in {"diffusion_gemma", "Dream",
                                                                       "nemotron_labs_diffusion"}:
        return None
    return "CAUSAL_LM"


def find_all_linear_names(model) -> list[str]:
    cls = (torch.nn.Linear,)  # (bnb.nn.Linear4bit, bnb.nn.Linear8bitLt, torch.nn.Linear)
    lora_module_names = set()
    for name, module in model.named_modules():
        if (
            isinstance(module, cls)
            or "Linear" in module.__class__.__name__
            and module.__class__.__name__ not in ("LlamaLinearScalingRotaryEmbedding",)
        ):
            names = name.split(".")
            lora_module_names.add(names[0] if len(names) == 1 else names[-1])

    embedding_modules = get_linear_embedding_layers(model.config.model_type)
    output_embedding = embedding_modules[1]
    if output_embedding in lora_module_names:  # needed for 16-bit
        lora_module_names.remove(output_embedding)

    return list(lora_module_names)


def run(text: str, model_class: str = "LlamaForCausalLM", model_type: str = "llama") -> Outcome:
    """axolotl on this file up to the LoraConfig call, on a model of `model_class` that it does not scan."""
    outcome = validate(text)
    if outcome.accepted and outcome.cfg.adapter in ("lora", "qlora"):
        outcome.kwargs = lora_kwargs(outcome.cfg, _Model(model_class, model_type))
    return outcome
