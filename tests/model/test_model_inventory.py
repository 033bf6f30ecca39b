"""build_inventory: module names and order as PEFT sees them, LoRA layer kinds as PEFT dispatches them, tying, MoE
parameters, remote-code refusal, and the stored format."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from lora_lint.model.catalog import lookup
from lora_lint.model.inventory import (
    FORMAT_VERSION,
    InventoryBuildError,
    InventoryFormatError,
    NeedsRemoteCode,
    build_inventory,
    dump_inventory,
    load_inventory,
    lora_kind,
)

REPO = Path(__file__).resolve().parents[2]

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")


def tiny(model_id: str, **dims) -> dict:
    """A catalogued config with its dimensions shrunk, so that building it for real is instant."""
    config = lookup(model_id).config()
    config.update(dims)
    return config


TINY = {
    "gpt2": tiny("gpt2", n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=64),
    "opt": tiny("facebook/opt-125m", num_hidden_layers=2, hidden_size=32, ffn_dim=64, num_attention_heads=2,
                vocab_size=100, word_embed_proj_dim=32, max_position_embeddings=64),
    "t5": tiny("t5-small", d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4,
               vocab_size=100),
    "mixtral": tiny("mistralai/Mixtral-8x7B-v0.1", num_hidden_layers=2, hidden_size=32, intermediate_size=48,
                    num_attention_heads=4, num_key_value_heads=2, num_local_experts=4, vocab_size=100),
}

AUTO_CLASSES = {"gpt2": "AutoModelForCausalLM", "opt": "AutoModelForCausalLM", "t5": "AutoModelForSeq2SeqLM",
                "mixtral": "AutoModelForCausalLM"}


def real_model(name: str):
    """The same model built normally, with real weights, as a trainer would hold it."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    config = CONFIG_MAPPING[TINY[name]["model_type"]].from_dict(TINY[name])
    return getattr(transformers, AUTO_CLASSES[name]).from_config(config)


@pytest.mark.parametrize("name", sorted(TINY))
def test_modules_are_named_modules_of_the_real_model_in_order(name):
    inventory = build_inventory(TINY[name], AUTO_CLASSES[name])
    model = real_model(name)

    assert [module["name"] for module in inventory["modules"]] == [n for n, _ in model.named_modules()]
    assert [module["class"] for module in inventory["modules"]] == [type(m).__name__ for _, m in model.named_modules()]
    assert inventory["class"] == type(model).__name__
    assert inventory["total_parameters"] == sum(p.numel() for p in model.parameters())
    assert inventory["can_generate"] is True
    json.dumps(inventory)  # plain data only


@pytest.mark.parametrize("name", sorted(TINY))
def test_linear_kinds_are_what_peft_all_linear_selects(name):
    from peft import LoraConfig
    from peft.tuners.tuners_utils import _maybe_include_all_linear_layers

    inventory = build_inventory(TINY[name], AUTO_CLASSES[name])
    selected = _maybe_include_all_linear_layers(LoraConfig(target_modules="all-linear"), real_model(name))

    linear = {m["name"] for m in inventory["modules"] if m["lora_kind"] in ("linear", "conv1d_gpt")}
    assert linear - {inventory["output_embedding"]} == set(selected.target_modules)


def test_gpt2_conv1d_and_tied_head():
    inventory = build_inventory(TINY["gpt2"], "GPT2LMHeadModel")
    modules = {module["name"]: module for module in inventory["modules"]}

    c_attn = modules["transformer.h.0.attn.c_attn"]
    assert c_attn["class"] == "Conv1D" and c_attn["lora_kind"] == "conv1d_gpt"
    assert c_attn["weight_shape"] == [32, 96]  # Conv1D keeps (in, out)
    assert (c_attn["in_features"], c_attn["out_features"]) == (32, 96)
    assert c_attn["parameters"] == 32 * 96 + 96
    wte = modules["transformer.wte"]
    assert wte["lora_kind"] == "embedding" and (wte["in_features"], wte["out_features"]) == (100, 32)
    assert modules["transformer.h.0.ln_1"]["lora_kind"] is None
    assert modules["transformer.h.0.ln_1"]["in_features"] is None
    assert inventory["output_embedding"] == "lm_head"
    assert inventory["tied_parameters"] == [["lm_head.weight", "transformer.wte.weight"]]
    assert inventory["layer_containers"] == [{"path": "transformer.h", "length": 2, "stack": "decoder"}]


def test_weights_are_tied_on_the_meta_device():
    # MANIFEST note 1: without tie_weights() the untied copy doubles the embedding; counts must be the real ones.
    assert build_inventory(lookup("gpt2").config(), "GPT2LMHeadModel")["total_parameters"] == 124_439_808
    inventory = build_inventory(lookup("t5-small").config(), "AutoModelForSeq2SeqLM")
    assert inventory["total_parameters"] == 60_506_624
    assert inventory["tied_parameters"] == [
        ["decoder.embed_tokens.weight", "encoder.embed_tokens.weight", "lm_head.weight", "shared.weight"]]


def test_encoder_decoder_stacks_are_told_apart():
    inventory = build_inventory(TINY["t5"], "AutoModelForSeq2SeqLM")
    stacks = {c["path"]: (c["length"], c["stack"]) for c in inventory["layer_containers"]}
    assert stacks["encoder.block"] == (2, "encoder")
    assert stacks["decoder.block"] == (2, "decoder")
    assert stacks["decoder.block.1.layer"] == (3, "decoder")  # self-attention, cross-attention, feed-forward
    assert inventory["is_encoder_decoder"] is True

    encoder_only = build_inventory(lookup("distilbert/distilbert-base-uncased").config(), "AutoModel")
    assert encoder_only["layer_containers"] == [{"path": "transformer.layer", "length": 6, "stack": "encoder"}]
    assert encoder_only["can_generate"] is False and encoder_only["output_embedding"] is None


def test_fused_moe_experts_expose_their_3d_parameters():
    inventory = build_inventory(TINY["mixtral"], "MixtralForCausalLM")
    experts = next(m for m in inventory["modules"] if m["name"] == "model.layers.0.mlp.experts")
    assert experts["lora_kind"] is None and experts["weight_shape"] is None
    assert experts["extra_parameters"] == {"gate_up_proj": [4, 96, 32], "down_proj": [4, 32, 48]}
    assert experts["parameters"] == 4 * 96 * 32 + 4 * 32 * 48
    assert "extra_parameters" not in next(m for m in inventory["modules"] if m["name"] == "model.embed_tokens")


class ScaledLinear(torch.nn.Linear):
    pass


def module_zoo():
    from transformers.pytorch_utils import Conv1D

    return {
        "linear": torch.nn.Linear(4, 6),
        "linear subclass": ScaledLinear(4, 6),
        "embedding": torch.nn.Embedding(10, 4),
        "conv1d": torch.nn.Conv1d(4, 6, 3),
        "conv2d": torch.nn.Conv2d(4, 6, 3),
        "conv3d": torch.nn.Conv3d(4, 6, 3),
        "mha": torch.nn.MultiheadAttention(8, 2),
        "gpt conv1d": Conv1D(6, 4),
        "layernorm": torch.nn.LayerNorm(4),
        "transposed conv": torch.nn.ConvTranspose2d(4, 6, 3),
        "embedding bag": torch.nn.EmbeddingBag(10, 4),
        "bilinear": torch.nn.Bilinear(4, 4, 6),
        "lstm": torch.nn.LSTM(4, 6),
    }


@pytest.mark.parametrize("label", sorted(module_zoo()))
def test_lora_kind_matches_peft_dispatch(label):
    from peft import LoraConfig
    from peft.tuners.lora.layer import dispatch_default

    module = module_zoo()[label]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PEFT warns while it corrects fan_in_fan_out for Conv1D
        wrapped = dispatch_default(module, "default", config=LoraConfig(r=2, target_modules=["x"]), r=2, lora_alpha=4)
    if wrapped is None:
        expected = None
    elif getattr(wrapped, "is_target_conv_1d_layer", False):
        expected = "conv1d_gpt"
    else:
        expected = {"Linear": "linear", "Embedding": "embedding", "Conv1d": "conv1d", "Conv2d": "conv2d",
                    "Conv3d": "conv3d", "MultiheadAttention": "mha"}[type(wrapped).__name__]
    assert lora_kind(module) == expected
    if wrapped is not None:
        assert (wrapped.in_features, wrapped.out_features) != (None, None)


def test_unknown_model_type_and_class_are_reported():
    with pytest.raises(InventoryBuildError, match="does not know model_type 'no-such-model'"):
        build_inventory({"model_type": "no-such-model"}, "AutoModel")
    with pytest.raises(InventoryBuildError, match="has no AutoModelForSeq2SeqLM for model_type 'gpt2'"):
        build_inventory(TINY["gpt2"], "AutoModelForSeq2SeqLM")
    with pytest.raises(InventoryBuildError, match="no model_type"):
        build_inventory({"hidden_size": 8}, "AutoModel")
    with pytest.raises(InventoryBuildError, match="could not build"):
        build_inventory({**TINY["gpt2"], "n_embd": 33}, "GPT2LMHeadModel")  # not divisible by n_head


def test_native_class_is_used_despite_auto_map():
    # MANIFEST note 5: phi-2's config carries an auto_map, yet transformers has the class itself.
    config = lookup("microsoft/phi-2").config()
    assert "auto_map" in config
    assert build_inventory(config, "PhiForCausalLM")["total_parameters"] == 2_779_683_840


REMOTE_CONFIG = """
import os
from transformers import PretrainedConfig
open(os.environ["LORA_LINT_TEST_MARKER"], "a").write("configuration imported\\n")
class TinyConfig(PretrainedConfig):
    model_type = "tiny-custom"
    def __init__(self, hidden=8, **kwargs):
        self.hidden = hidden
        super().__init__(**kwargs)
"""

REMOTE_MODEL = """
import os
import torch
from transformers import PreTrainedModel
from .configuration_tiny import TinyConfig
open(os.environ["LORA_LINT_TEST_MARKER"], "a").write("modeling imported\\n")
class TinyForCausalLM(PreTrainedModel):
    config_class = TinyConfig
    def __init__(self, config):
        super().__init__(config)
        self.proj = torch.nn.Linear(config.hidden, config.hidden)
        self.post_init()
"""

REMOTE_CHECK = """
import json, os, sys
from lora_lint.model.resolve import get_inventory, resolve_model
resolved = resolve_model(sys.argv[1])
refused = get_inventory(resolved, "TinyForCausalLM")
imported_before_trust = os.path.exists(os.environ["LORA_LINT_TEST_MARKER"])
allowed = get_inventory(resolved, "AutoModelForCausalLM", trust_remote_code=True)
print(json.dumps({"refused": refused.failure, "imported_before_trust": imported_before_trust,
                  "failure": allowed.failure, "class": allowed.inventory and allowed.inventory["class"],
                  "names": allowed.inventory and [m["name"] for m in allowed.inventory["modules"]]}))
"""


def test_remote_code_runs_only_when_trusted(tmp_path):
    model_dir = tmp_path / "tiny-custom"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps({
        "model_type": "tiny-custom", "architectures": ["TinyForCausalLM"], "hidden": 8,
        "auto_map": {"AutoConfig": "configuration_tiny.TinyConfig",
                     "AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM"},
    }))
    (model_dir / "configuration_tiny.py").write_text(textwrap.dedent(REMOTE_CONFIG))
    (model_dir / "modeling_tiny.py").write_text(textwrap.dedent(REMOTE_MODEL))
    marker = tmp_path / "imported.txt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "LORA_LINT_TEST_MARKER": str(marker),
           "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}

    result = subprocess.run([sys.executable, "-c", REMOTE_CHECK, str(model_dir)],
                            env=env, capture_output=True, text=True, timeout=120, check=True)
    outcome = json.loads(result.stdout)
    assert outcome["refused"].startswith("needs trust_remote_code")
    assert outcome["imported_before_trust"] is False  # refusing ran none of the repository's code
    assert outcome["failure"] is None
    assert outcome["class"] == "TinyForCausalLM" and outcome["names"] == ["", "proj"]
    assert set(marker.read_text().splitlines()) == {"configuration imported", "modeling imported"}


def test_needs_remote_code_is_raised_without_trust():
    config = {"model_type": "tiny-custom", "auto_map": {"AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM"}}
    with pytest.raises(NeedsRemoteCode, match="needs trust_remote_code"):
        build_inventory(config, "AutoModelForCausalLM")


def test_stored_format_round_trips_and_rejects_damage():
    inventory = build_inventory(TINY["gpt2"], "GPT2LMHeadModel")
    data = dump_inventory(inventory)
    assert load_inventory(data) == inventory
    assert dump_inventory(inventory) == data  # reproducible bytes: rebuilding an unchanged catalogue is no diff

    for damaged in (b"not gzip", data[: len(data) // 2], gzip.compress(b"{]"), gzip.compress(b"[1]"),
                    gzip.compress(json.dumps({**inventory, "format": FORMAT_VERSION + 1}).encode()),
                    gzip.compress(json.dumps({k: v for k, v in inventory.items() if k != "modules"}).encode())):
        with pytest.raises(InventoryFormatError):
            load_inventory(damaged)


def test_importing_the_inventory_module_imports_no_torch():
    code = ("import sys, lora_lint.model.inventory\n"
            "print(sorted({'torch', 'transformers', 'accelerate'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
