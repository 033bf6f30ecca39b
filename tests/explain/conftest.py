"""Fixtures of the explain tests: every catalogued model, shrunk, on the meta device; and the real PEFT on it."""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import warnings
from pathlib import Path

import pytest

from tests.differential.conftest import _SHRINK, ARCHITECTURES

CATALOG = Path(__file__).resolve().parents[2] / "lora_lint" / "data" / "catalog"
CATALOG_ENTRIES = json.loads((CATALOG / "index.json").read_text())["models"]


def shrunk(entry: dict) -> dict:
    """The catalogued config.json with small sizes (module names, which matching sees, do not depend on them)."""
    config = json.loads((CATALOG / entry["file"]).read_text())
    config.update({key: value for key, value in _SHRINK.items() if key in config and config[key] is not None})
    config.update(ARCHITECTURES.get(entry["file"].removesuffix(".json"), ({}, []))[0])
    if config.get("model_type") == "gpt_neo":
        config["attention_types"] = [[["global"], config["num_layers"]]]
        config.pop("attention_layers", None)
    if config.get("model_type") == "phi3":
        config.setdefault("pad_token_id", 0)
        config["pad_token_id"] = min(config["pad_token_id"] or 0, config["vocab_size"] - 1)
    if isinstance(config.get("layer_types"), list):  # per-layer attention kinds must match the layer count
        layers = config.get("num_hidden_layers")
        config["layer_types"] = (config["layer_types"] * layers)[:layers]
    return config


@contextlib.contextmanager
def single_threaded():
    """torch on one thread while these tests build models: a parallel CPU op (a model's real buffers) starts
    OpenMP's thread pool, and a process that forks after that (the CLI's process pool, later in the suite, with
    --peft-dry-run) hangs in its children."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@functools.cache
def meta_model(file: str, model_class: str):
    import accelerate
    import torch
    import transformers

    entry = next(e for e in CATALOG_ENTRIES if e["file"] == file)
    config = shrunk(entry)
    hf_config = transformers.CONFIG_MAPPING[config["model_type"]].from_dict(config)
    with single_threaded(), accelerate.init_empty_weights():
        # fp32 throughout, so that the saved state dict's bytes are its elements × 4 (the fp32 size explain gives).
        model = getattr(transformers, model_class).from_config(hf_config, dtype=torch.float32)
    model.tie_weights()
    return model


@functools.cache
def inventory(file: str, model_class: str) -> dict:
    from lora_lint.model.inventory import build_inventory

    entry = next(e for e in CATALOG_ENTRIES if e["file"] == file)
    with single_threaded():
        return build_inventory(shrunk(entry), model_class)


def top_level_stacks(inventory: dict) -> list[dict]:
    containers = inventory["layer_containers"]
    return [c for c in containers if not any(c["path"].startswith(o["path"] + ".") for o in containers)]


def real_peft(file: str, model_class: str, lora: dict):
    """get_peft_model on a fresh copy of the meta model: (trainable count, {module: LoRA count}, saved state dict)."""
    import peft

    with single_threaded(), warnings.catch_warnings():
        model = copy.deepcopy(meta_model(file, model_class))
        warnings.simplefilter("ignore")
        peft_model = peft.get_peft_model(model, peft.LoraConfig(**copy.deepcopy(lora)))
        state = peft.get_peft_model_state_dict(peft_model)
    per_module: dict[str, int] = {}
    for name, param in peft_model.named_parameters():
        if param.requires_grad and ".lora_" in name:
            module = name.removeprefix("base_model.model.").split(".lora_")[0]
            per_module[module] = per_module.get(module, 0) + param.numel()
    return peft_model.get_nb_trainable_parameters()[0], per_module, state


@pytest.fixture(scope="session")
def peft_version() -> str:
    import peft

    return peft.__version__
