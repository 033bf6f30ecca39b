"""The miniature builder across every catalogued architecture and class, MoE with fused experts, encoder-decoders
and classification heads: the miniature has the real model's module tree, and one step on it passes every check.

The default run steps each architecture once, with the tasks spread over them so every task is stepped; set
LORA_LINT_TRAIN_STEP_ALL=1 to step every architecture with every task its model supports.
"""

import os

import pytest

from lora_lint.model import catalog
from lora_lint.model.inventory import build_inventory
from lora_lint.model.resolve import _shipped_inventory
from lora_lint.train_step.miniature import has_expert_modules, miniature_config

ALL = os.environ.get("LORA_LINT_TRAIN_STEP_ALL") == "1"

CLASS_TASKS = {"ForCausalLM": "CAUSAL_LM", "LMHeadModel": "CAUSAL_LM", "ForConditionalGeneration": "SEQ_2_SEQ_LM",
               "ForSequenceClassification": "SEQ_CLS", "ForTokenClassification": "TOKEN_CLS",
               "ForQuestionAnswering": "QUESTION_ANS"}
# Combinations whose static checks already fail, so the step is skipped (the rule that fails them).
STATICALLY_REJECTED = {("t5", "QUESTION_ANS"): "LL311"}
# Layer counts the step test shrinks to (the names test keeps the real ones).
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "encoder_layers", "decoder_layers",
              "num_decoder_layers")


def _architectures():
    """One catalogue entry per model type (the first), with every class it has an inventory for."""
    seen = {}
    for entry in catalog.entries():
        seen.setdefault(entry.model_type, entry)
    return list(seen.values())


def _class_pairs():
    entries = catalog.entries() if ALL else _architectures()
    return [(entry, cls) for entry in entries for cls in entry.inventories]


@pytest.mark.parametrize("entry,cls", _class_pairs(), ids=lambda v: v if isinstance(v, str) else v.id)
def test_miniature_has_the_models_module_tree(entry, cls):
    full = _shipped_inventory(entry.inventory_path(cls))
    config, shape = miniature_config(entry.config(), has_expert_modules(full))
    mini = build_inventory(config, cls)
    assert [(m["name"], m["class"]) for m in mini["modules"]] == [(m["name"], m["class"]) for m in full["modules"]]
    assert mini["layer_containers"] == full["layer_containers"]
    assert mini["tied_parameters"] == full["tied_parameters"]
    assert mini["total_parameters"] < full["total_parameters"] / 20, shape


def _step_cases():
    cases = []
    for index, entry in enumerate(_architectures()):
        tasks = [task for suffix, task in CLASS_TASKS.items() if any(c.endswith(suffix) for c in entry.inventories)]
        tasks = list(dict.fromkeys(tasks))
        chosen = tasks if ALL else [tasks[index % len(tasks)]]
        cases += [(entry, task) for task in chosen]
    return cases


def _few_layers(config, layers=2):
    """The config with at most `layers` layers per stack, and per-layer lists cut to match."""
    counts = {value for key, value in config.items() if key in LAYER_KEYS and isinstance(value, int)}
    few = {}
    for key, value in config.items():
        if key in LAYER_KEYS and isinstance(value, int):
            value = min(value, layers)
        elif isinstance(value, list) and len(value) in counts:
            value = value[:layers]
        few[key] = value
    if config.get("model_type") == "gpt_neo":  # [[["global", "local"], 6]]: a pattern repeated over the layers
        few["attention_types"] = [[config["attention_types"][0][0], 1]]
    return few


@pytest.mark.parametrize("entry,task", _step_cases(), ids=lambda v: v if isinstance(v, str) else v.model_type)
def test_step_passes_on_every_architecture(entry, task, model_dir, write, step):
    directory = model_dir(_few_layers(entry.config()))
    # PEFT adds the task heads to modules_to_save, matching by suffix (`classifier` also wraps DistilBERT's
    # `pre_classifier`); all-linear must keep off them (LL308 otherwise).
    path = write("adapter.yaml", f"base_model_name_or_path: {directory}\ntask_type: {task}\nr: 4\nlora_alpha: 8\n"
                                 "target_modules: all-linear\n"
                                 "exclude_modules: [classifier, pre_classifier, score, qa_outputs]\n")
    code, report = step(path)
    if (entry.model_type, task) in STATICALLY_REJECTED:
        assert report["train_step"]["status"] == "skipped"
        assert STATICALLY_REJECTED[entry.model_type, task] in [d["code"] for d in report["diagnostics"]]
        return
    if (entry.model_type, task) == ("bart", "CAUSAL_LM"):
        # BartForCausalLM keeps the decoder's cross-attention, which nothing calls without an encoder.
        [finding] = [d for d in report["diagnostics"] if d["code"] == "LL403"]
        assert "encoder_attn" in finding["message"] and code == 1
        return
    assert report["train_step"]["status"] == "passed", [(d["code"], d["message"]) for d in report["diagnostics"]]
    assert code == 0
    assert all(check["passed"] for check in report["train_step"]["checks"])
    assert report["train_step"]["trainable_parameters"] > 0
