"""The targets LLaMA-Factory computes from the model (`lora_target: all`, and every target of a composite model),
lora-lint's scan of a stored inventory against LLaMA-Factory's own `find_all_linear_modules` and
`patch_target_modules` on the same model built on the meta device; then what real PEFT wraps with those targets
against lora-lint's replay."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("llamafactory", reason="pip install --no-deps llamafactory==0.9.5")
pytest.importorskip("omegaconf", reason="omegaconf is in the dev extras")
transformers = pytest.importorskip("transformers")

from lora_lint.model.inventory import build_inventory, build_skeleton  # noqa: E402
from lora_lint.trainers.llamafactory.arguments import finetuning_arguments  # noqa: E402
from lora_lint.trainers.llamafactory.targets import model_targets  # noqa: E402

from . import llamafactory_oracle as oracle  # noqa: E402
from .conftest import TOOLKIT_CASES  # noqa: E402

# model type -> the class LLaMA-Factory's loader picks for it (model/loader.py: image-text models first).
MODELS = {"gpt2": "AutoModelForCausalLM", "llama": "AutoModelForCausalLM", "qwen2": "AutoModelForCausalLM",
          "mixtral": "AutoModelForCausalLM", "opt": "AutoModelForCausalLM", "phi3": "AutoModelForCausalLM",
          "llava": "AutoModelForImageTextToText", "qwen2_vl": "AutoModelForImageTextToText",
          "mistral3": "AutoModelForImageTextToText", "paligemma": "AutoModelForImageTextToText"}
TARGETS = ["all", "q_proj,v_proj", "proj", "all,q_proj", "self_attn"]
FLAGS = list(itertools.product([True, False], [True, False], [False, True]))


def tiny_config(model_type: str) -> dict:
    """The model type's default config with two layers per stack (meta device: sizes cost nothing)."""
    config = transformers.AutoConfig.for_model(model_type).to_dict()
    for part in [config] + [value for value in config.values() if isinstance(value, dict)]:
        for key in ("num_hidden_layers", "n_layer", "num_layers", "depth"):
            if isinstance(part.get(key), int):
                part[key] = 2
        part.pop("layer_types", None)
    return config


@pytest.mark.parametrize("model_type", sorted(MODELS))
def test_model_dependent_targets_agree_with_llamafactory(model_type):
    config = tiny_config(model_type)
    model = build_skeleton(config, MODELS[model_type])
    inventory = build_inventory(config, MODELS[model_type])
    compared = 0
    for target, (vision, projector, language) in itertools.product(TARGETS, FLAGS):
        written = {"lora_target": target, "freeze_vision_tower": vision, "freeze_multi_modal_projector": projector,
                   "freeze_language_model": language}
        args, rejection = finetuning_arguments(written)
        assert rejection is None
        real = oracle._ARGS[3].FinetuningArguments(**written)
        expected = oracle.model_targets(model, real)
        ours = model_targets(inventory, args)
        assert sorted(ours) == sorted(expected), (model_type, written)
        compared += 1
    TOOLKIT_CASES[f"llamafactory {oracle.VERSION}: model-dependent targets compared"] += compared


@pytest.mark.parametrize("model_type", ["gpt2", "qwen2", "llava"])
def test_peft_wraps_what_lora_lint_replays(model_type):
    """`lora_target: all` end to end: real PEFT on the meta skeleton with LLaMA-Factory's own targets wraps exactly
    the modules lora-lint's matcher says get LoRA (none on GPT-2, whose layers are Conv1D)."""
    import peft

    from lora_lint.matcher import match

    config = tiny_config(model_type)
    inventory = build_inventory(config, MODELS[model_type])
    args, _ = finetuning_arguments({"lora_target": "all"})
    targets = model_targets(inventory, args)
    ours = match(inventory, {"target_modules": targets, "r": 8, "task_type": "CAUSAL_LM"}, peft.__version__)
    assert bool(ours.targets) == (model_type != "gpt2")
    model = build_skeleton(config, MODELS[model_type])
    real_targets = oracle.model_targets(model, oracle._ARGS[3].FinetuningArguments(lora_target="all"))
    try:
        wrapped = peft.get_peft_model(model, peft.LoraConfig(r=8, target_modules=real_targets, task_type="CAUSAL_LM"))
    except ValueError:
        assert not ours.targets  # PEFT finds nothing to wrap: lora-lint says nothing gets LoRA
        return
    real = {name.removeprefix("base_model.model.") for name, module in wrapped.named_modules()
            if isinstance(module, peft.tuners.lora.LoraLayer)}
    assert set(ours.targets) == real


def test_composite_model_table_and_key_table_are_llamafactorys():
    from lora_lint.trainers.llamafactory.arguments import known_keys
    from lora_lint.trainers.llamafactory.targets import COMPOSITE_MODELS

    assert COMPOSITE_MODELS == {
        name: (m.projector_keys, m.vision_model_keys, m.language_model_keys, m.lora_conflict_keys)
        for name, m in oracle.visual.COMPOSITE_MODELS.items()}
    ours = known_keys()
    for cls in ("ModelArguments", "DataArguments", "FinetuningArguments", "GeneratingArguments"):
        assert set(ours[cls]) == oracle.FIELDS[cls], cls
    # TrainingArguments: transformers' fields at LLaMA-Factory's top pin (5.6) in the table, the installed 5.24 here.
    assert len(set(ours["TrainingArguments"]) ^ oracle.FIELDS["TrainingArguments"]) < 10
