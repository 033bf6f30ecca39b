"""Every "PEFT rejects this" claim is checked against the installed PEFT: the same config, built for real."""

import copy
import warnings

import pytest

peft = pytest.importorskip("peft")

from lora_lint.source import parse_text  # noqa: E402
from lora_lint.trainers import detect  # noqa: E402


def lora_kwargs(text):
    """What the trainer passes to peft.LoraConfig for this file (its first run)."""
    return detect(parse_text("config.yaml", text).root).runs[0].kwargs()


REJECTED = [
    ("LL105", "lora_config:\n  target_modules: '.*(q_proj|v_proj)'\n  layers_to_transform: [0, 1]\n"),
    ("LL105", "lora_config:\n  target_modules: '.*q_proj'\n  layers_pattern: layers\n  layers_to_transform: [0]\n"),
    ("LL105", "lora_config:\n  target_modules: [q_proj]\n  layers_pattern: layers\n"),
    ("LL105", "lora_config:\n  target_modules: [q_proj]\n  use_dora: true\n  lora_bias: true\n"),
    ("LL105", "lora_config:\n  target_modules: [q_proj]\n  init_lora_weights: gaussian\n  lora_bias: true\n"),
    ("LL105", "lora_config:\n  target_modules: [q_proj]\n  use_dora: true\n  megatron_config: {tensor_model_parallel_size: 1}\n"),
    ("LL105", "lora_config:\n  target_modules: [q_proj]\n  init_lora_weights: loftq\n"),
    ("LL105", "r: 8\ntarget_modules: [q_proj]\ntarget_parameters: mlp.experts.gate_up_proj\n"),
    ("LL106", "model:\n  hf_model_ckpt: x\nlora:\n  r: 16\n  layers_to_transform: [2, 4, 6]\n"),
    ("LL106", "lora:\n  layers_to_transform: 3\n"),
    ("LL104", "lora_config:\n  target_modules: [q_proj]\n  task_type: causal_lm\n"),
    ("LL104", "r: 8\ntarget_modules: [q_proj]\ntask_type: SEQ_CLASSIFICATION\n"),
]


@pytest.mark.parametrize("code, text", REJECTED)
def test_lora_config_raises_where_lora_lint_reports(code, text, lint, write):
    assert code in lint("check", write("c.yaml", text), "--output-format", "json").codes()
    with pytest.raises((ValueError, TypeError)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peft.LoraConfig(**lora_kwargs(text))


ACCEPTED = [
    "lora_config:\n  target_modules: [q_proj, v_proj]\n  layers_to_transform: [0, 1]\n  layers_pattern: layers\n",
    "lora_config:\n  target_modules: '.*(q_proj|v_proj)'\n",
    "lora_config:\n  target_modules: [q_proj]\n  lora_bias: true\n",
    "lora_config:\n  target_modules: [q_proj]\n  use_dora: true\n",
    "lora_config:\n  target_modules: [q_proj]\n  task_type: SEQ_CLS\n",
    "model:\n  hf_model_ckpt: x\nlora:\n  r: 16\n",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_lora_config_accepts_what_lora_lint_passes(text, lint, write):
    result = lint("check", write("c.yaml", text), "--output-format", "json")
    assert not {"LL104", "LL105", "LL106"} & set(result.codes())
    peft.LoraConfig(**lora_kwargs(text))


@pytest.fixture(scope="module")
def tiny_llama():
    transformers = pytest.importorskip("transformers")
    accelerate = pytest.importorskip("accelerate")
    config = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=4, vocab_size=128)
    with accelerate.init_empty_weights():
        return transformers.AutoModelForCausalLM.from_config(config)


@pytest.mark.parametrize("code, text", [
    ("LL107", "lora_config:\n  r: 8\n  target_modules: q_proj\n"),
    ("LL112", "lora_config:\n  r: 8\n  target_modules: [all-linear]\n"),
    ("LL108", "lora_config:\n  r: 8\n  target_modules: ['.*q_proj', 'v_proj|k_proj']\n"),
])
def test_targets_that_match_nothing_make_get_peft_model_raise(code, text, tiny_llama, lint, write):
    assert code in lint("check", write("c.yaml", text), "--output-format", "json").codes()
    config = peft.LoraConfig(**{**lora_kwargs(text), "init_lora_weights": True})
    with pytest.raises(ValueError, match="not found in the base model|No modules were targeted"):
        peft.get_peft_model(copy.deepcopy(tiny_llama), config)


def test_the_fixed_targets_do_match(tiny_llama):
    for targets in (["q_proj"], "all-linear", ".*\\.(q_proj|v_proj)"):
        model = peft.get_peft_model(copy.deepcopy(tiny_llama), peft.LoraConfig(r=8, target_modules=targets))
        assert any("lora_A" in name for name, _ in model.named_modules())
