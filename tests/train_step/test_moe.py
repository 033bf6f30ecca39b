"""Mixture-of-experts models under transformers 5, whose experts are fused 3-d parameters: the miniature keeps the
module tree (shrinking the expert count changes no name), and LoRA on the experts (`target_parameters`, or v4-style
expert names that PEFT rewrites into them) trains."""

import pytest

from lora_lint.model.inventory import build_inventory
from lora_lint.train_step.miniature import has_expert_modules, miniature_config
from tests.train_step.conftest import codes_and_lines

# config.json of Qwen/Qwen1.5-MoE-A2.7B and Qwen/Qwen3-30B-A3B, the keys that shape the model.
QWEN2_MOE = {"architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "hidden_size": 2048,
             "intermediate_size": 5632, "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
             "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16, "num_experts": 60,
             "num_experts_per_tok": 4, "decoder_sparse_step": 1, "vocab_size": 151936, "qkv_bias": True,
             "max_position_embeddings": 8192, "bos_token_id": 151643, "eos_token_id": 151643,
             "tie_word_embeddings": False}
QWEN3_MOE = {"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "hidden_size": 2048,
             "intermediate_size": 6144, "moe_intermediate_size": 768, "num_hidden_layers": 48,
             "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128, "num_experts": 128,
             "num_experts_per_tok": 8, "decoder_sparse_step": 1, "vocab_size": 151936,
             "max_position_embeddings": 40960, "bos_token_id": 151643, "eos_token_id": 151645,
             "tie_word_embeddings": False}


@pytest.mark.parametrize("config", [QWEN2_MOE, QWEN3_MOE], ids=["qwen2_moe", "qwen3_moe"])
def test_moe_miniature_has_the_models_module_tree(config):
    full = build_inventory(config, config["architectures"][0])
    assert not has_expert_modules(full)  # fused: experts are parameters of one module per layer
    mini_config, shape = miniature_config(config)
    assert shape["num_experts"] == (config["num_experts"], 4)
    mini = build_inventory(mini_config, config["architectures"][0])
    assert [(m["name"], m["class"]) for m in mini["modules"]] == [(m["name"], m["class"]) for m in full["modules"]]
    assert {m["name"]: sorted(m.get("extra_parameters", {})) for m in mini["modules"]} == \
        {m["name"]: sorted(m.get("extra_parameters", {})) for m in full["modules"]}


def test_qwen_moe_target_parameters_train(step, write, model_dir):
    directory = model_dir(dict(QWEN2_MOE, num_hidden_layers=2))
    path = write("a.yaml", f"base_model_name_or_path: {directory}\ntask_type: CAUSAL_LM\nr: 4\nlora_dropout: 0.0\n"
                           "target_modules: [q_proj, v_proj]\n"
                           "target_parameters: [mlp.experts.gate_up_proj, mlp.experts.down_proj]\n")
    code, entry = step(path)
    assert codes_and_lines(entry) == [] and code == 0
    assert entry["train_step"]["status"] == "passed"
    assert entry["train_step"]["trainable_parameters"] == entry["train_step"]["predicted_trainable_parameters"]


def test_mixtral_v4_expert_names_are_rewritten_and_train(step, write):
    # PEFT rewrites w1/w3 (fused into gate_up_proj) and w2 into target_parameters on transformers 5.
    path = write("a.yaml", "base_model_name_or_path: mistralai/Mixtral-8x7B-v0.1\ntask_type: CAUSAL_LM\nr: 4\n"
                           "lora_dropout: 0.0\ntarget_modules: [q_proj, w1, w2, w3]\n")
    code, entry = step(path)
    assert codes_and_lines(entry) == [] and code == 0
    report = entry["train_step"]
    assert report["status"] == "passed" and report["lora_modules"] == 32  # q_proj in each of the 32 layers
    assert report["trainable_parameters"] == report["predicted_trainable_parameters"]
