"""`check --fix`, `--unsafe-fixes`, `--diff`, `--show-fixes` as a user runs them."""

import json
import os
import stat

# Flat LoraConfig keys under `lora_config:`, which reach PEFT as written (a toolkit file would first be read by the
# toolkit's own schema, which rejects a string target outright).
LLAMA = "# the base model\nmodel_name_or_path: NousResearch/Llama-2-7b-hf\n"
GPT2 = "# the base model\nmodel_name_or_path: openai-community/gpt2\n"


def test_diff_prints_the_change_exits_1_and_writes_nothing(lint, write):
    text = LLAMA + "lora_config:\n  r: 16\n  target_modules: q_proj\n"
    path = write("a.yml", text)
    result = lint("check", path, "--diff")
    assert result.code == 1
    assert result.out == (f"--- a/{path.as_posix()}\n+++ b/{path.as_posix()}\n@@ -2,4 +2,4 @@\n"
                          " model_name_or_path: NousResearch/Llama-2-7b-hf\n lora_config:\n   r: 16\n"
                          "-  target_modules: q_proj\n+  target_modules: [q_proj]\n")
    assert "Would fix 1 finding in 1 file." in result.err
    assert path.read_text() == text


def test_diff_exits_0_when_nothing_would_change(lint, write):
    path = write("a.yml", LLAMA + "lora_config:\n  r: 16\n  target_modules: [q_proj]\n  lora_aplha: 32\n")
    result = lint("check", path, "--diff")  # the typo's rename is unsafe: not without --unsafe-fixes
    assert (result.code, result.out) == (0, "")
    assert lint("check", path, "--diff", "--unsafe-fixes").code == 1


def test_fix_applies_safe_fixes_reports_what_is_left_and_keeps_the_rest(lint, write):
    path = write("a.yml", LLAMA + "lora_config:\n  r: 16  # rank\n  lora_aplha: 32\n  task_type: causal_lm\n"
                                  "  target_modules: [q_proj, v_proj, q_proj]\n")
    result = lint("check", path, "--fix", "--output-format", "json")
    assert path.read_text() == (LLAMA + "lora_config:\n  r: 16  # rank\n  lora_aplha: 32\n  task_type: CAUSAL_LM\n"
                                        "  target_modules: [q_proj, v_proj]\n")
    assert result.codes() == ["LL101"]  # fixed findings are not reported; the unsafe one is left
    assert result.code == 1
    assert "Fixed 2 findings in 1 file." in result.err


def test_fix_summary_and_the_unsafe_hint_in_the_full_report(lint, write):
    path = write("a.yml", LLAMA + "lora_config:\n  lora_aplha: 32\n  task_type: causal_lm\n  target_modules: [q_proj]\n")
    result = lint("check", path, "--fix", "--show-fixes")
    assert "Fixed 1 finding in 1 file:\n" in result.out
    assert "    LL104 [invalid-value] line 5: wrote `task_type: CAUSAL_LM`\n" in result.out
    assert result.out.endswith("Found 1 error, 0 warnings.\n" + "Fixed 1 finding in 1 file:\n- "
                               f"{path.as_posix()}:\n    LL104 [invalid-value] line 5: wrote `task_type: CAUSAL_LM`\n"
                               "[*] 1 fix available with `--unsafe-fixes`.\n")


def test_unsafe_fixes_reach_a_fixed_point_across_passes(lint, write):
    # gpt2 calls both projections c_attn: the unsafe renames leave a repetition, which the next pass removes
    path = write("a.yml", GPT2 + "lora_config:\n  r: 16\n  fan_in_fan_out: true\n  target_modules: [q_proj, v_proj]\n")
    result = lint("check", path, "--unsafe-fixes", "--show-fixes")
    assert path.read_text() == GPT2 + "lora_config:\n  r: 16\n  fan_in_fan_out: true\n  target_modules: [c_attn]\n"
    assert result.code == 0
    listed = [line.strip() for line in result.out.splitlines() if line.startswith("    ")]
    assert listed == ["LL301 [target-not-found] line 6: replaced `q_proj` with `c_attn` (unsafe)",
                      "LL301 [target-not-found] line 6: replaced `v_proj` with `c_attn` (unsafe)",
                      "LL109 [duplicate-entry] line 6: removed the repeated `c_attn`"]


def test_suppressed_and_ignored_findings_are_not_fixed(lint, write):
    text = (LLAMA + "lora_config:\n  r: 16\n  target_modules: q_proj  # lora-lint: ignore[LL107]\n"
            "  task_type: causal_lm\n")
    path = write("a.yml", text)
    assert lint("check", path, "--diff").code == 1  # the task type would be fixed
    assert lint("check", path, "--diff", "--ignore", "LL104").code == 0
    lint("check", path, "--fix")
    assert path.read_text() == text.replace("causal_lm", "CAUSAL_LM")


def test_values_reached_through_an_alias_or_merge_key_are_not_edited(lint, write):
    text = ("shared: &names q_proj\nbase: &base {task_type: causal_lm}\n" + LLAMA +
            "lora_config:\n  <<: *base\n  r: 16\n  target_modules: *names\n")
    path = write("a.yml", text)
    result = lint("check", path, "--unsafe-fixes", "--output-format", "json")
    assert sorted(result.codes()) == ["LL104", "LL107"]  # reported, but an edit would change every use
    assert path.read_text() == text


def test_block_list_entry_removed_with_its_line_crlf_bom_and_missing_final_newline_kept(lint, write):
    text = ("\ufeff" + LLAMA + "lora_config:\n  r: 16\n  # the targets\n  target_modules:\n    - q_proj  # first\n"
            "    - v_proj\n    - q_proj  # again\n  layers_to_transform:\n  - 0\n  - 0").replace("\n", "\r\n")
    path = write("a.yml", text.encode("utf-8"))
    lint("check", path, "--fix")
    expected = ("\ufeff" + LLAMA + "lora_config:\n  r: 16\n  # the targets\n  target_modules:\n    - q_proj  # first\n"
                "    - v_proj\n  layers_to_transform:\n  - 0").replace("\n", "\r\n")
    assert path.read_bytes() == expected.encode("utf-8")


def test_json_stays_json_with_its_formatting(lint, write):
    text = ('{\n    "base_model_name_or_path": "NousResearch/Llama-2-7b-hf",\n    "peft_type": "LORA",\n'
            '    "r": "16",\n    "task_type": "causal_lm",\n    "target_modules": "q_proj",\n'
            '    "lora_dropout": "5e-2"\n}')
    path = write("adapter_config.json", text)
    result = lint("check", path, "--fix", "--output-format", "json")
    assert result.codes() == []
    fixed = path.read_text()
    assert fixed == text.replace('"16"', "16").replace('"causal_lm"', '"CAUSAL_LM"').replace(
        '"q_proj"', '["q_proj"]').replace('"5e-2"', "5e-2")
    assert json.loads(fixed)["lora_dropout"] == 0.05


def test_the_written_file_keeps_its_mode_and_a_symlink_stays_a_link(lint, write, tmp_path):
    target = write("real/a.yml", LLAMA + "lora_config:\n  target_modules: q_proj\n")
    os.chmod(target, 0o640)
    link = tmp_path / "link.yml"
    link.symlink_to(target)
    lint("check", link, "--fix")
    assert link.is_symlink()
    assert target.read_text().endswith("target_modules: [q_proj]\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["a.yml"]  # no temporary file left behind


def test_a_file_changed_on_disk_since_it_was_read_is_not_overwritten(lint, write, monkeypatch):
    import lora_lint.fix as fix

    path = write("a.yml", LLAMA + "lora_config:\n  target_modules: q_proj\n")
    edited_meanwhile = LLAMA + "lora_config:\n  target_modules: [k_proj]\n"
    real_fix_text = fix.fix_text

    def fix_text_while_someone_saves(*args, **kwargs):
        result = real_fix_text(*args, **kwargs)
        path.write_text(edited_meanwhile)
        return result

    monkeypatch.setattr(fix, "fix_text", fix_text_while_someone_saves)
    result = lint("check", path, "--fix", "--output-format", "json")
    assert path.read_text() == edited_meanwhile
    assert "changed on disk since it was read; not overwritten" in result.err
    assert result.code == 1
    assert result.codes() == ["LL107"]  # the finding was not fixed, so it is reported
