"""LLaMA-Factory files as a user sees them: detected, read the way `llamafactory-cli train` reads them, reported
in LLaMA-Factory's own names at the node that causes each finding."""

from __future__ import annotations

from lora_lint.source import parse_text
from lora_lint.trainers import detect

HEAD = "model_name_or_path: Qwen/Qwen2.5-0.5B\nstage: sft\ndo_train: true\nfinetuning_type: lora\n"


def reading(text: str):
    return detect(parse_text("config.yaml", text).root)


def diagnostics(lint, write, text: str) -> list[tuple[str, int, int, str]]:
    result = lint("check", write("config.yaml", text), "--offline", "--output-format", "json")
    return [(d["code"], d["line"], d["column"], d["message"])
            for d in result.json["files"][0]["diagnostics"]]


def test_flat_and_v1_files_are_read_as_llamafactory_and_other_finetuning_types_are_not_lora():
    assert reading(HEAD + "lora_target: all\n").trainer == "llamafactory"
    assert reading("model_name_or_path: m\nlora_rank: 8\n").trainer == "llamafactory"  # LoRA is the default type
    assert reading("model: Qwen/Qwen3-4B\nmodel_class: llm\npeft_config:\n  name: lora\n  r: 16\n").trainer \
        == "llamafactory"
    assert reading("model_name_or_path: m\nstage: sft\nfinetuning_type: full\n") is None


def test_lora_alpha_defaults_to_twice_the_rank_and_lora_target_is_split_at_its_place_in_the_string():
    view = reading(HEAD + "lora_rank: 16\nlora_target: q_proj, v_proj\n").runs[0]
    assert view.kwargs()["lora_alpha"] == 32 and view.provenance()["lora_alpha"] == "default"
    target = view.settings["target_modules"]
    assert target.value == ["q_proj", "v_proj"]
    assert [(item.span.start.line, item.span.start.column) for item in target.value_node.items] == [(6, 14), (6, 22)]
    assert view.kwargs()["task_type"] == "CAUSAL_LM" and view.model_class == "AutoModelForCausalLM"


def test_no_type_is_converted(lint, write):
    found = diagnostics(lint, write, HEAD + "lora_rank: '8'\nuse_dora: 'no'\nlora_target: q_proj\n")
    assert reading(HEAD + "lora_rank: '8'\nlora_target: q_proj\n").runs[0].kwargs()["lora_alpha"] == "88"
    assert any(code == "LL102" and row == 5 and "`lora_rank`" in message for code, row, _, message in found)
    assert any(code == "LL133" and row == 6 and "so it is on" in message for code, row, _, message in found)


def test_unknown_keys_are_fatal_with_did_you_mean(lint, write):
    result = lint("check", write("config.yaml", HEAD + "lora_rnak: 16\n"), "--offline", "--output-format", "json")
    assert result.code == 1
    [finding] = [d for d in result.json["files"][0]["diagnostics"] if d["code"] == "LL130"]
    assert finding["line"] == 5 and "raises ValueError" in finding["message"]
    assert "lora_rank" in (finding.get("help") or "")
    assert result.json["files"][0]["trainer"]["verdict"] == "rejects"


def test_a_duplicate_key_is_fatal_under_omegaconf(lint, write):
    found = diagnostics(lint, write, HEAD + "lora_target: all\nplot_loss: true\nplot_loss: true\n")
    [(code, row, _, message)] = [f for f in found if f[0] == "LL002"]
    assert row == 7 and "OmegaConf" in message and "last value" not in message


def test_lora_target_all_is_llamafactorys_own_scan_on_the_model(lint, write):
    result = lint("check", write("config.yaml", HEAD + "lora_target: all\n"), "--offline", "--output-format", "json")
    kwargs = result.json["files"][0]["trainer"]["runs"][0]["kwargs"]
    assert sorted(kwargs["target_modules"]) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj",
                                                "v_proj"]  # no lm_head, no embed_tokens
    gpt2 = diagnostics(lint, write, "model_name_or_path: openai-community/gpt2\nlora_target: all\n")
    assert [(code, row) for code, row, _, _ in gpt2] == [("LL133", 2), ("LL308", 2)]


def test_all_among_other_targets_is_a_module_name(lint, write):
    found = diagnostics(lint, write, HEAD + "lora_target: all,q_proj\n")
    assert [(code, row, column) for code, row, column, _ in found] == [("LL135", 5, 14), ("LL301", 5, 14)]


def test_a_resumed_adapter_makes_the_lora_keys_moot(lint, write):
    found = diagnostics(lint, write, HEAD + "adapter_name_or_path: saves/lora\nlora_rank: 64\n")
    assert [(code, row) for code, row, _, _ in found] == [("LL135", 6)]
    assert "resumes a saved adapter" in found[0][3]


def test_trainer_rejections_are_at_the_key_that_causes_them(lint, write):
    found = diagnostics(lint, write, HEAD + "use_galore: true\n")
    assert [(code, row) for code, row, _, _ in found] == [("LL130", 5)]
    assert "Cannot use LoRA with GaLore" in found[0][3]
    missing = diagnostics(lint, write, "stage: sft\nfinetuning_type: lora\n")
    assert any(code == "LL130" and "model_name_or_path" in message for code, _, _, message in missing)


def test_a_directory_of_llamafactory_files_is_linted(lint, write):
    write("configs/a.yaml", HEAD + "lora_target: all\n")
    write("configs/b.yaml", HEAD + "lora_target: q_proj,v_proj\n")
    result = lint("check", write("configs/a.yaml", HEAD + "lora_target: all\n").parent, "--offline")
    assert "All checks passed (2 files)" in result.out
