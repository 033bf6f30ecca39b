"""Shared fixtures of the differential suite: shrunk real model configs, the real PEFT run, per-architecture counts."""

from __future__ import annotations

import collections
import copy
import functools
import json
import re
import time
import warnings
from pathlib import Path

import pytest

# The catalogue ships each base model's real config.json, so the suite needs nothing outside the repository.
MODEL_CONFIGS = Path(__file__).resolve().parents[2] / "lora_lint" / "data" / "catalog"

# Small sizes keep building and injecting fast; module names (what matching sees) do not depend on them.
_SHRINK = {
    "num_hidden_layers": 3, "n_layer": 3, "num_layers": 3, "num_decoder_layers": 3, "encoder_layers": 2,
    "decoder_layers": 2, "n_layers": 3, "hidden_size": 32, "n_embd": 32, "d_model": 32, "dim": 32,
    "word_embed_proj_dim": 32, "intermediate_size": 64, "n_inner": 64, "d_ff": 64, "ffn_dim": 64,
    "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "hidden_dim": 64, "num_attention_heads": 4, "n_head": 4,
    "num_heads": 4, "encoder_attention_heads": 4, "decoder_attention_heads": 4, "n_heads": 4,
    "num_key_value_heads": 2, "head_dim": 8, "d_kv": 8, "vocab_size": 128, "num_local_experts": 4,
    "num_experts_per_tok": 2, "rotary_dim": 4, "max_position_embeddings": 64, "n_positions": 64,
}  # fmt: skip

# config file -> (extra overrides, model classes to build)
ARCHITECTURES = {
    "TinyLlama--TinyLlama-1.1B-Chat-v1.0": ({}, ["AutoModelForCausalLM", "AutoModelForSequenceClassification"]),
    "mistralai--Mistral-7B-v0.1": ({}, ["AutoModelForCausalLM"]),
    "mistralai--Mixtral-8x7B-v0.1": ({}, ["AutoModelForCausalLM"]),
    "Qwen--Qwen2.5-0.5B": ({}, ["AutoModelForCausalLM", "AutoModelForTokenClassification"]),
    "Qwen--Qwen3-8B": ({}, ["AutoModelForCausalLM"]),
    "google--gemma-2b": ({}, ["AutoModelForCausalLM"]),
    "google--gemma-2-9b": ({}, ["AutoModelForCausalLM"]),
    "microsoft--phi-2": ({}, ["AutoModelForCausalLM"]),
    "microsoft--Phi-3-mini-4k-instruct": ({"pad_token_id": 0}, ["AutoModelForCausalLM"]),
    "openai-community--gpt2": ({}, ["AutoModelForCausalLM", "AutoModelForSequenceClassification"]),
    "facebook--opt-125m": ({}, ["AutoModelForCausalLM"]),
    "EleutherAI--gpt-j-6b": ({}, ["AutoModelForCausalLM"]),
    "bigscience--bloom-560m": ({}, ["AutoModelForCausalLM"]),
    "stabilityai--stablelm-2-1_6b": ({}, ["AutoModelForCausalLM"]),
    "google-t5--t5-small": ({}, ["AutoModelForSeq2SeqLM"]),
    "facebook--bart-large": ({}, ["AutoModelForSeq2SeqLM", "AutoModelForSequenceClassification"]),
    "google-bert--bert-base-uncased": ({}, ["AutoModelForSequenceClassification", "AutoModel"]),
    "distilbert--distilbert-base-uncased": ({}, ["AutoModelForSequenceClassification", "AutoModelForQuestionAnswering"]),
    "FacebookAI--roberta-base": ({}, ["AutoModelForSequenceClassification", "AutoModelForTokenClassification"]),
}  # fmt: skip

CASES_RUN: collections.Counter = collections.Counter()
SECONDS: collections.Counter = collections.Counter()
OUTCOMES: collections.Counter = collections.Counter()  # PEFT's exception type (or "no error") and warning kinds


def shrunk_config(config_name: str) -> dict:
    config = json.loads((MODEL_CONFIGS / f"{config_name}.json").read_text())
    config.update({key: value for key, value in _SHRINK.items() if key in config and config[key] is not None})
    config.update(ARCHITECTURES[config_name][0])
    if config.get("model_type") == "gpt_neo":
        config["attention_types"] = [[["global", "local"], config["num_layers"] // 2]]
    return config


@functools.cache
def inventory_for(config_name: str, model_class: str) -> dict:
    from lora_lint.model.inventory import build_inventory

    return build_inventory(shrunk_config(config_name), model_class)


@functools.cache
def _pristine_model(config_name: str, model_class: str):
    import accelerate
    import transformers

    config = shrunk_config(config_name)
    hf_config = transformers.CONFIG_MAPPING[config["model_type"]].from_dict(config)
    with accelerate.init_empty_weights():
        model = getattr(transformers, model_class).from_config(hf_config)
    model.tie_weights()
    return model


# PEFT warning message -> the matcher's warning kind.
WARNING_KINDS = [
    (r"^fan_in_fan_out is set to True but the target module is `torch.nn.Linear`", "fan_in_fan_out_disabled"),
    (r"^fan_in_fan_out is set to False but the target module is `Conv1D`", "fan_in_fan_out_enabled"),
    (r"^Model has `tie_word_embeddings=True` and a tied layer is part of the adapter", "tied_embedding_adapted"),
    (r"^You have passed exclude_modules=", "exclude_modules_unused"),
    (r"^target_modules=.* were set but no module was matched", "target_modules_unmatched"),
    (r"^target_parameters=.* were set but no parameter was matched", "target_parameters_unmatched"),
    (r"^The following rank_pattern keys did not match", "rank_pattern_keys_unmatched"),
    (r"^The following alpha_pattern keys did not match", "alpha_pattern_keys_unmatched"),
    (r"^`lora_bias=True` was passed but the targeted layer", "lora_bias_without_base_bias"),
]
_IGNORED_WARNINGS = (r"`is_gradient_checkpointing` is deprecated",)


def _normalize(name: str) -> str:
    """A module path in the PEFT model -> the key PEFT matched (wrapper internals and the PeftModel prefix gone)."""
    name = re.sub(r"\.(modules_to_save\.default|original_module)(?=\.|$)", "", name)
    return name.removeprefix("base_model.model.")


def run_peft(config_name: str, model_class: str, lora: dict) -> dict:
    """What the installed PEFT does: get_peft_model on a fresh copy of the model, observed."""
    import peft
    from peft.tuners.lora import LoraLayer, ParamWrapper
    from peft.utils.other import ModulesToSaveWrapper

    started = time.perf_counter()
    model = copy.deepcopy(_pristine_model(config_name, model_class))
    observed = {"error": None, "warnings": [], "unknown_warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            config = peft.LoraConfig(**copy.deepcopy(lora), init_lora_weights=True)
            peft_model = peft.get_peft_model(model, config)
        except Exception as exc:  # noqa: BLE001 -- which exception PEFT raises is what is compared
            observed["error"] = (type(exc).__name__, str(exc))
    for warning in caught:
        message = str(warning.message)
        kind = next((kind for pattern, kind in WARNING_KINDS if re.search(pattern, message)), None)
        if kind:
            observed["warnings"].append(kind)
        elif not any(re.search(pattern, message) for pattern in _IGNORED_WARNINGS):
            observed["unknown_warnings"].append(message)
    if observed["error"] is None:
        tuner = peft_model.base_model
        observed["targets"] = sorted(set(tuner.targeted_module_names))
        observed["target_parameters"] = sorted(set(tuner.targeted_parameter_names))
        observed["modules_to_save"] = sorted(
            {
                _normalize(name)
                for name, module in peft_model.named_modules(remove_duplicate=False)
                if isinstance(module, ModulesToSaveWrapper)
            }
        )
        rank, alpha = {}, {}
        for name, module in peft_model.named_modules():
            if not isinstance(module, LoraLayer) or "default" not in module.r:
                continue
            key = re.sub(r"\.base_layer(?=\.|$)", "", _normalize(name))
            if isinstance(module, ParamWrapper):
                key = f"{key}.{module.parameter_name}"
            rank[key], alpha[key] = module.r["default"], module.lora_alpha["default"]
        observed["rank"], observed["alpha"] = rank, alpha
        observed["trainable_parameters"] = peft_model.get_nb_trainable_parameters()[0]
    OUTCOMES[observed["error"][0] if observed["error"] else "no error"] += 1
    OUTCOMES.update(f"warning {kind}" for kind in set(observed["warnings"]))
    CASES_RUN[f"{config_name} {model_class}"] += 1
    SECONDS[f"{config_name} {model_class}"] += time.perf_counter() - started
    return observed


def pytest_terminal_summary(terminalreporter):
    if not CASES_RUN:
        return
    terminalreporter.section("differential cases per architecture")
    for key in sorted(CASES_RUN):
        terminalreporter.write_line(f"{CASES_RUN[key]:6d} cases  {SECONDS[key]:7.1f}s  {key}")
    terminalreporter.write_line(f"{sum(CASES_RUN.values()):6d} cases in total")
    for outcome, count in OUTCOMES.most_common():
        terminalreporter.write_line(f"{count:6d} {outcome}")


@pytest.fixture(scope="session")
def peft_version() -> str:
    import peft

    return peft.__version__
