"""LLaMA-Factory's argument parsing (llamafactory 0.9.5, `hparams/`), as `llamafactory-cli train FILE` runs it.

`read_args` loads the file with OmegaConf (duplicate keys are fatal, `1e-4` is a float) and hands the dict to
`HfArgumentParser(_TRAIN_ARGS).parse_dict`: each dataclass is built with `cls(**its_keys)` and no type conversion
at all, its `__post_init__` runs, and only then does any key no dataclass has raise (unless ALLOW_EXTRA_ARGS).
`finetuning_arguments` transcribes `FinetuningArguments.__post_init__` (hparams/finetuning_args.py) check by check,
in its order, on the untyped values: `lora_rank: '8'` makes `lora_alpha` `'88'`, `use_dora: 'no'` is truthy.
tests/trainers/test_llamafactory_vs_llamafactory.py runs the real dataclass against this on generated configs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

# FinetuningArguments fields __post_init__ reads, with their dataclass defaults.
DEFAULTS: dict[str, Any] = {
    "finetuning_type": "lora", "stage": "sft", "lora_rank": 8, "lora_alpha": None, "lora_dropout": 0.0,
    "lora_target": "all", "additional_target": None, "use_rslora": False, "use_dora": False, "pissa_init": False,
    "pissa_iter": 16, "create_new_adapter": False, "loraplus_lr_ratio": None, "use_llama_pro": False,
    "freeze_trainable_modules": "all", "freeze_extra_modules": None, "oft_target": "all", "galore_target": "all",
    "apollo_target": "all", "pref_loss": "sigmoid", "ref_model_quantization_bit": None,
    "reward_model_quantization_bit": None, "reward_model": None, "reward_model_type": "lora",
    "dpo_label_smoothing": 0.0, "use_galore": False, "use_apollo": False, "use_badam": False,
    "freeze_vision_tower": True, "freeze_multi_modal_projector": True, "freeze_language_model": False,
}
_SPLIT = ("freeze_trainable_modules", "freeze_extra_modules", "lora_target", "oft_target", "additional_target",
          "galore_target", "apollo_target")


@dataclass
class Rejection:
    """What stops the trainer: the exception, its message, and the key whose value causes it."""

    raises: str
    message: str
    key: str


@lru_cache(maxsize=1)
def known_keys() -> dict[str, list[str]]:
    """Dataclass name -> the keys it accepts (data/llamafactory_keys.json, made by scripts/llamafactory_keys.py)."""
    text = resources.files("lora_lint.data").joinpath("llamafactory_keys.json").read_text()
    return json.loads(text)["keys"]


def all_known_keys() -> set[str]:
    return {key for keys in known_keys().values() for key in keys}


def split_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return [item.strip() for item in arg.split(",")]
    return arg


def finetuning_arguments(written: dict[str, Any]) -> tuple[dict[str, Any], Rejection | None]:
    """The FinetuningArguments fields after `__post_init__`, or the first thing it raises on."""
    args = {**DEFAULTS, **{key: value for key, value in written.items() if key in DEFAULTS}}
    for key in _SPLIT:
        args[key] = split_arg(args[key])
    try:
        args["lora_alpha"] = args["lora_alpha"] or args["lora_rank"] * 2
    except TypeError as exc:
        return args, Rejection("TypeError", str(exc), "lora_rank")
    args["use_ref_model"] = args["stage"] == "dpo" and args["pref_loss"] not in ["orpo", "simpo"]
    return args, _post_init_checks(args)


def _post_init_checks(a: dict[str, Any]) -> Rejection | None:
    ft = a["finetuning_type"]
    if ft not in ["lora", "oft", "freeze", "full"]:
        return Rejection("AssertionError", "Invalid fine-tuning method.", "finetuning_type")
    for key in ("ref_model_quantization_bit", "reward_model_quantization_bit"):
        if a[key] not in [None, 8, 4]:
            return Rejection("AssertionError", "We only accept 4-bit or 8-bit quantization.", key)
    stage = a["stage"]
    if stage == "ppo" and a["reward_model"] is None:
        return Rejection("ValueError", "`reward_model` is necessary for PPO training.", "stage")
    if stage == "ppo" and a["reward_model_type"] == "lora" and ft != "lora":
        return Rejection("ValueError", "`reward_model_type` cannot be lora for Freeze/Full PPO training.",
                         "reward_model_type")
    if stage == "ppo" and a["reward_model_type"] == "oft" and ft != "oft":
        return Rejection("ValueError", "`reward_model_type` cannot be oft for Freeze/Full PPO training.",
                         "reward_model_type")
    try:
        if stage == "dpo" and a["pref_loss"] != "sigmoid" and a["dpo_label_smoothing"] > 1e-6:
            return Rejection("ValueError", "`dpo_label_smoothing` is only valid for sigmoid loss function.",
                             "dpo_label_smoothing")
    except TypeError as exc:
        return Rejection("TypeError", str(exc), "dpo_label_smoothing")
    if a["use_llama_pro"] and ft == "full":
        return Rejection("ValueError", "`use_llama_pro` is only valid for Freeze or LoRA training.", "use_llama_pro")
    if ft == "lora" and (a["use_galore"] or a["use_apollo"] or a["use_badam"]):
        key = next(k for k in ("use_galore", "use_apollo", "use_badam") if a[k])
        return Rejection("ValueError", "Cannot use LoRA with GaLore, APOLLO or BAdam together.", key)
    try:
        together = int(a["use_galore"]) + int(a["use_apollo"]) + (a["use_badam"]) > 1
    except (TypeError, ValueError) as exc:
        key = next((k for k in ("use_galore", "use_apollo", "use_badam") if not isinstance(a[k], (bool, int))),
                   "use_galore")
        return Rejection(type(exc).__name__, str(exc), key)
    if together:
        return Rejection("ValueError", "Cannot use GaLore, APOLLO or BAdam together.", "use_galore")
    if a["pissa_init"] and (stage in ["ppo", "kto"] or a["use_ref_model"]):
        return Rejection("ValueError", "Cannot use PiSSA for current training stage.", "pissa_init")
    if ft != "lora":
        for key in ("loraplus_lr_ratio", "use_rslora", "use_dora", "pissa_init"):
            if (a[key] is not None) if key == "loraplus_lr_ratio" else a[key]:
                return Rejection("ValueError", f"`{key}` is only valid for LoRA training.", key)
    return None


def model_checks(written: dict[str, Any], args: dict[str, Any]) -> Rejection | None:
    """The LoRA-related checks of parser.py `_verify_model_args` (ModelArguments' `adapter_name_or_path` is
    comma-split by its own __post_init__)."""
    adapters = written.get("adapter_name_or_path")
    if isinstance(adapters, str):
        adapters = [path.strip() for path in adapters.split(",")]
    ft = args["finetuning_type"]
    if adapters is not None and ft != "lora":
        return Rejection("ValueError", "Adapter is only valid for the LoRA method.", "adapter_name_or_path")
    if written.get("quantization_bit") is not None:
        if ft not in ["lora", "oft"]:
            return Rejection("ValueError", "Quantization is only compatible with the LoRA or OFT method.",
                             "quantization_bit")
        if args["pissa_init"]:
            return Rejection("ValueError", "Please use scripts/pissa_init.py to initialize PiSSA for a quantized "
                             "model.", "pissa_init")
        if written.get("resize_vocab"):
            return Rejection("ValueError", "Cannot resize embedding layers of a quantized model.", "resize_vocab")
        if adapters is not None and args["create_new_adapter"]:
            return Rejection("ValueError", "Cannot create new adapter upon a quantized model.", "create_new_adapter")
        if adapters is not None and len(adapters) != 1:
            return Rejection("ValueError", "Quantized model only accepts a single adapter. Merge them first.",
                             "adapter_name_or_path")
    return None


def lora_kwargs(args: dict[str, Any]) -> dict[str, Any]:
    """The LoraConfig kwargs of model/adapter.py `_setup_lora_tuning` for a new adapter, before the model-dependent
    steps (the `all` scan, composite models' name patching): `target_modules` is `lora_target` as split."""
    kwargs = {
        "r": args["lora_rank"],
        "target_modules": args["lora_target"],
        "lora_alpha": args["lora_alpha"],
        "lora_dropout": args["lora_dropout"],
        "use_rslora": args["use_rslora"],
        "use_dora": args["use_dora"],
        "modules_to_save": args["additional_target"],
        "task_type": "CAUSAL_LM",
        "inference_mode": False,
    }
    if args["pissa_init"]:
        kwargs["init_lora_weights"] = "pissa" if args["pissa_iter"] == -1 else f"pissa_niter_{args['pissa_iter']}"
    return kwargs


def scans_all(target: Any) -> bool:
    """`lora_target` (split) is exactly `all`: adapter.py then scans the model for its linear layers."""
    return isinstance(target, list) and len(target) == 1 and target[0] == "all"
