"""The skeleton is built the way transformers loads a checkpoint: config.json read as AutoConfig.from_pretrained
reads it (non-finite floats included), the class picked as the Auto class's from_config picks it for a composite
config, buffers on the meta device; multimodal models have their parts marked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lora_lint.model.inventory import build_inventory, build_skeleton
from lora_lint.model.parts import part_of

from .tiny_configs import reference_model, shrink

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[2]


def saved_config(model_type: str, tmp_path: Path) -> dict:
    """The model type's default config with two layers per stack, as save_pretrained writes it, read back as JSON."""
    config_class = transformers.CONFIG_MAPPING[model_type]
    config_class.from_dict(shrink(config_class().to_dict(), 2)).save_pretrained(tmp_path)
    return json.loads((tmp_path / "config.json").read_text())


def test_non_finite_floats_are_read_as_transformers_writes_them(tmp_path):
    config = saved_config("mamba2", tmp_path)
    assert config["time_step_limit"] == [0.0, {"__float__": "Infinity"}]  # what save_pretrained writes
    model = build_skeleton(config, "AutoModelForCausalLM")
    assert model.config.time_step_limit == (0.0, float("inf")) or model.config.time_step_limit == [0.0, float("inf")]
    inventory = build_inventory(config, "AutoModelForCausalLM")
    assert {"backbone.layers.0.mixer.in_proj", "backbone.layers.1.mixer.out_proj"} <= {
        m["name"] for m in inventory["modules"]}


def test_composite_config_builds_the_class_from_config_builds(tmp_path):
    config = saved_config("llama4", tmp_path)
    reference = reference_model(tmp_path, "AutoModelForCausalLM")
    inventory = build_inventory(config, "AutoModelForCausalLM")
    assert inventory["class"] == type(reference).__name__ == "Llama4ForCausalLM"
    assert [m["name"] for m in inventory["modules"]] == [name for name, _ in reference.named_modules()]
    assert inventory["model_type"] == "llama4_text"  # what PEFT reads its default targets by


def test_buffers_are_built_on_the_meta_device():
    model = build_skeleton(_gpt_neo(16384), "AutoModelForCausalLM")
    assert {buffer.device.type for buffer in model.buffers()} == {"meta"}


def _gpt_neo(positions: int) -> dict:
    config = transformers.GPTNeoConfig(num_layers=4, attention_types=[[["global", "local"], 2]],
                                       max_position_embeddings=positions, hidden_size=64, num_heads=4,
                                       vocab_size=128).to_dict()
    return json.loads(json.dumps(config))


def test_long_context_causal_masks_cost_no_memory():
    """GPT-Neo registers a positions x positions causal mask per layer: 16,384 positions are 256 MiB a layer when
    the buffers are real, so four layers would add a gigabyte to the peak memory of a 64-position baseline built
    first in the same process."""
    code = ("import json, resource, sys\n"
            "from lora_lint.model.inventory import build_inventory\n"
            "for config in sys.argv[1:]:\n"
            "    build_inventory(json.loads(config), 'AutoModelForCausalLM')\n"
            "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    result = subprocess.run([sys.executable, "-c", code, json.dumps(_gpt_neo(64)), json.dumps(_gpt_neo(16384))],
                            capture_output=True, text=True, timeout=300, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    baseline, long_context = map(float, result.stdout.split())
    assert long_context - baseline < 128, (baseline, long_context)


def test_multimodal_parts_are_marked(tmp_path):
    config = saved_config("llava", tmp_path)
    inventory = build_inventory(config, "LlavaForConditionalGeneration")
    assert [(p["path"], p["part"]) for p in inventory["parts"]] == [
        ("model.vision_tower", "vision_tower"),
        ("model.multi_modal_projector", "projector"),
        ("model.language_model", "language_model"),
    ]
    assert part_of(inventory, "model.vision_tower.encoder.layers.0.self_attn.q_proj") == "vision_tower"
    assert part_of(inventory, "model.multi_modal_projector.linear_1") == "projector"
    assert part_of(inventory, "model.language_model.layers.1.mlp.up_proj") == "language_model"
    assert part_of(inventory, "lm_head") is None
    stacks = {c["path"]: c["stack"] for c in inventory["layer_containers"]}
    assert stacks == {"model.vision_tower.encoder.layers": "vision", "model.language_model.layers": "text"}


def test_qwen2_vl_merger_is_the_projector_inside_the_vision_tower(tmp_path):
    config = saved_config("qwen2_vl", tmp_path)
    inventory = build_inventory(config, "AutoModelForImageTextToText")
    assert part_of(inventory, "model.visual.blocks.0.attn.qkv") == "vision_tower"
    assert part_of(inventory, "model.visual.merger.mlp.0") == "projector"
    assert part_of(inventory, "model.language_model.layers.0.self_attn.q_proj") == "language_model"


def test_plain_language_models_mark_no_parts(tmp_path):
    inventory = build_inventory(saved_config("llama", tmp_path), "AutoModelForCausalLM")
    assert inventory["parts"] == []


def test_mistral_config_with_layer_types_is_read_as_ministral_like_from_pretrained(tmp_path):
    config = saved_config("mistral", tmp_path)
    config["layer_types"] = ["sliding_attention", "full_attention"]
    config["sliding_window"] = 4096
    (tmp_path / "config.json").write_text(json.dumps(config))
    expected = type(transformers.AutoConfig.from_pretrained(tmp_path)).model_type
    assert expected == "ministral"
    assert build_inventory(config, "AutoModelForCausalLM")["model_type"] == expected


def test_all_linear_reach_names_the_vision_tower_and_the_projector(tmp_path, lint, write):
    saved_config("llava", tmp_path)
    config = write("adapter_config.json", json.dumps({"peft_type": "LORA", "r": 8, "target_modules": "all-linear"}))
    run = lint("check", "--model", tmp_path, "--no-cache", "--output-format", "json", config)
    messages = [d["message"] for d in run.json["files"][0]["diagnostics"] if d["code"] == "LL314"]
    assert any(m.startswith("`all-linear` puts LoRA on 12 vision tower module(s)") for m in messages), messages
    assert any(m.startswith("`all-linear` puts LoRA on 2 multimodal projector module(s)") for m in messages), messages
