"""Model-aware rules and the model stage, as a user sees them."""

import dataclasses

import pytest

from lora_lint import base_model
from lora_lint.model import catalog


def diagnostics(result):
    return [(d["code"], d["line"]) for d in result.json["files"][0]["diagnostics"]]


def test_llmtune_without_model_checks_the_toolkit_default(lint, write):
    result = lint("check", write("a.yml", "lora:\n  r: 8\n  target_modules: [c_attn]\n"), "--output-format", "json")
    assert result.json["files"][0]["model"]["id"] == "NousResearch/Llama-2-7b-hf"
    assert diagnostics(result) == [("LL301", 3)]
    assert "this model calls it" in result.json["files"][0]["diagnostics"][0]["help"] or \
        "q_proj" in result.json["files"][0]["diagnostics"][0]["help"]


def test_cross_architecture_hint(lint, write):
    content = "model:\n  hf_model_ckpt: bigscience/bloom-560m\nlora:\n  r: 8\n  target_modules: [q_proj, v_proj]\n"
    result = lint("check", write("a.yml", content), "--output-format", "json")
    helps = {d["help"] for d in result.json["files"][0]["diagnostics"] if d["code"] == "LL301"}
    assert helps == {"this model calls it `query_key_value`"}


def test_model_override_and_settings_mapping(lint, write):
    path = write("configs/a.yaml", "r: 8\ntarget_modules: [c_attn]\nfan_in_fan_out: true\n")
    assert lint("check", path, "--output-format", "json").json["files"][0]["model"] is None
    assert lint("check", path, "--model", "gpt2", "--output-format", "json").codes() == []
    assert lint("check", path, "--model", "meta-llama/Llama-3.2-1B", "--output-format", "json").codes() \
        == ["LL301"]
    write(".lora-lint.toml", '[models]\n"configs/*.yaml" = "distilgpt2"\n')
    result = lint("check", path, "--output-format", "json")
    assert result.json["files"][0]["model"]["id"] == "distilbert/distilgpt2"


def test_unresolved_model_is_a_warning_and_strict_fails(lint, write):
    path = write("a.yml", "model:\n  hf_model_ckpt: acme/secret-model\nlora:\n  r: 8\n  target_modules: [q]\n")
    result = lint("check", path, "--offline", "--output-format", "json")
    [diagnostic] = result.json["files"][0]["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["severity"]) == ("LL201", 2, "warning")
    assert "hub: offline" in diagnostic["help"] and "catalogue: no entry" in diagnostic["help"]
    assert result.code == 0
    assert lint("check", path, "--offline", "--strict").code == 1


def test_config_cannot_turn_on_trust_remote_code(lint, write, monkeypatch):
    seen = []
    real = base_model.attach_model

    def spy(context, settings_model):
        seen.append(context.options.trust_remote_code)
        return real(context, settings_model)

    monkeypatch.setattr("lora_lint.lint.attach_model", spy)
    content = "model_name_or_path: gpt2\ntrust_remote_code: true\nlora_config:\n  target_modules: [c_attn]\n" \
              "  fan_in_fan_out: true\n"
    result = lint("check", write("a.yml", content), "--output-format", "json")
    assert diagnostics(result) == [("LL202", 2)]
    assert seen == [False]


def test_layer_index_out_of_range_says_how_many(lint, write):
    content = "lora:\n  target_modules: [q_proj]\n  layers_to_transform: [31, 32]\n"
    result = lint("check", write("a.yml", content), "--output-format", "json")
    [diagnostic] = result.json["files"][0]["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["column"]) == ("LL303", 3, 29)
    assert "has 32 layers" in diagnostic["message"]


def test_toolkit_docs_regex_layers_pattern(lint, write):
    content = "lora:\n  target_modules: [q_proj]\n  layers_to_transform: [0]\n" \
              "  layers_pattern: 'transformer\\.h\\.\\d+\\.attn'\n"
    result = lint("check", write("a.yml", content), "--output-format", "json")
    [diagnostic] = result.json["files"][0]["diagnostics"]
    assert diagnostic["code"] == "LL304" and diagnostic["help"] == "for this model write `layers_pattern: layers`"


def test_modules_to_save_plain_suffix(lint, write):
    content = ("r: 8\ntask_type: SEQ_CLS\ntarget_modules: [q_lin, v_lin]\nmodules_to_save: [classifier]\n"
               "base_model_name_or_path: distilbert/distilbert-base-uncased\n")
    result = lint("check", write("a.yaml", content), "--output-format", "json")
    messages = [d["message"] for d in result.json["files"][0]["diagnostics"] if d["code"] == "LL306"]
    assert any("also wraps pre_classifier" in m for m in messages)
    assert "pre_classifier" in result.json["files"][0]["modules_to_save"]


def test_json_fields_for_a_resolved_model(lint, write):
    content = "r: 4\ntarget_modules: [c_attn]\nfan_in_fan_out: true\nbase_model_name_or_path: gpt2\n"
    entry = lint("check", write("a.yaml", content), "--output-format", "json").json["files"][0]
    assert entry["model"] == {"id": "openai-community/gpt2", "source": "catalog", "class": "GPT2LMHeadModel",
                              "model_type": "gpt2", "transformers": entry["model"]["transformers"], "layers": 12,
                              "notes": []}
    assert entry["targets"] == sorted(f"transformer.h.{i}.attn.c_attn" for i in range(12))
    assert entry["trainable_parameters"] == 12 * 4 * (768 + 3 * 768)
    assert entry["modules_to_save"] == [] and entry["peft_version"]


def test_peft_dry_run_disagreement_is_an_internal_error(lint, write, monkeypatch):
    pytest.importorskip("peft")
    real = base_model._match

    def wrong(context, inventory):
        result = real(context, inventory)
        return dataclasses.replace(result, targets=result.targets[:-1])

    monkeypatch.setattr(base_model, "_match", wrong)
    content = "r: 4\ntarget_modules: [c_attn]\nfan_in_fan_out: true\nbase_model_name_or_path: gpt2\n"
    result = lint("check", write("a.yaml", content), "--peft-dry-run", "--output-format", "concise")
    assert result.code == 1 and result.err == ""  # reported on the file (LL009), the run goes on
    assert "LL009 [internal-error] lora-lint failed on this file: PeftDisagreement" in result.out
    assert "disagrees with PEFT" in result.out and "transformer.h.9.attn.c_attn" in result.out


def test_modules_command(lint):
    result = lint("modules", "meta-llama/Llama-3.2-1B")
    assert result.code == 0
    assert "model.layers.{0..15}.self_attn.{k_proj,v_proj}" in result.out
    assert "Linear 2048→512" in result.out
    assert "  model.layers  16 (decoder)" in result.out
    assert "all-linear covers 112 modules" in result.out
    document = lint("modules", "gpt2", "--format", "json").json
    assert document["class"] == "GPT2LMHeadModel" and len(document["modules"]) > 100


def test_modules_command_unknown_model_exits_2(lint):
    result = lint("modules", "acme/nothing", "--offline")
    assert result.code == 2 and "cannot resolve" in result.err


def test_lint_path_does_not_import_torch_for_a_catalogued_model(write, tmp_path):
    import subprocess
    import sys

    path = write("a.yml", "model:\n  hf_model_ckpt: meta-llama/Llama-3.1-8B\nlora:\n  target_modules: [q_proj]\n")
    code = ("import sys; from lora_lint.cli import main; rc = main(['check', sys.argv[1]]); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'accelerate', "
            "'peft', 'huggingface_hub')); print('HEAVY', heavy); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout
    assert "1 modules get LoRA" not in result.stdout and "32 modules get LoRA in 32 layers" in result.stdout


@pytest.mark.parametrize("model_id", [entry.id for entry in catalog.entries()])
def test_modules_command_works_for_every_catalogued_model(model_id, lint):
    result = lint("modules", model_id)
    assert result.code == 0, result.err
    assert result.out.startswith(f"{model_id}: ")
    assert "Names usable in target_modules" in result.out and "all-linear covers" in result.out


def test_cross_architecture_hints_name_real_modules():
    from lora_lint.model.resolve import choose_model_class, get_inventory, resolve_model
    from lora_lint.rules.target_not_found import CROSS_ARCHITECTURE

    checked = 0
    for entry in catalog.entries():
        resolved = resolve_model(entry.id)
        inventory = get_inventory(resolved, choose_model_class(resolved.config)).inventory
        leaves = {m["name"].rsplit(".", 1)[-1] for m in inventory["modules"] if m["lora_kind"]}
        for llama_name, hints in CROSS_ARCHITECTURE.items():
            if inventory["model_type"] in hints:
                assert llama_name not in leaves, (entry.id, llama_name)
                assert hints[inventory["model_type"]] in leaves, (entry.id, llama_name)
                checked += 1
    assert checked >= 40
