"""Exit codes, file discovery, settings and suppressions, as a user sees them on the command line."""

import subprocess
import sys

CLEAN = "lora:\n  r: 16\n  lora_alpha: 32\n  target_modules: [q_proj, v_proj]\n"
WARNS = "lora:\n  r: 16\n  target_modules: [q_proj, q_proj]\n"  # LL109 is a warning
ERRS = "lora:\n  r: 0\n  target_modules: [q_proj]\n"  # LL103 is an error
WORKFLOW = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"


def test_exit_codes(lint, write):
    assert lint("check", write("a.yaml", CLEAN)).code == 0
    assert lint("check", write("b.yaml", WARNS)).code == 0
    assert lint("check", write("b.yaml", WARNS), "--strict").code == 1
    assert lint("check", write("c.yaml", ERRS)).code == 1
    assert lint("check", write("c.yaml", ERRS), "--exit-zero").code == 0


def test_usage_errors_exit_2(lint, write):
    unknown = lint("check", write("a.yaml", CLEAN), "--select", "LL999")
    assert unknown.code == 2 and "Usage: lora-lint check" in unknown.err
    assert lint("check", write("a.yaml", CLEAN), "--peft-version", "banana").code == 2


def test_a_missing_path_is_a_diagnostic_and_the_others_are_still_linted(lint, write, tmp_path):
    result = lint("check", tmp_path / "nope.yaml", write("c.yaml", ERRS), "--output-format", "json")
    assert result.code == 1
    assert [(f["path"].rsplit("/", 1)[-1], [d["code"] for d in f["diagnostics"]]) for f in result.json["files"]] == [
        ("nope.yaml", ["LL003"]), ("c.yaml", ["LL103"])]
    assert "No such file or directory" in result.json["files"][0]["diagnostics"][0]["message"]
    assert lint("check", tmp_path / "nope.yaml", "--skip-non-lora").code == 1  # still reported under pre-commit


def test_usage_error_in_a_real_process_exits_2():
    result = subprocess.run([sys.executable, "-m", "lora_lint", "check", "--output-format", "xml"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "'xml' is not one of" in result.stderr and "Usage: lora-lint check" in result.stderr


def test_walking_a_directory_skips_non_lora_files_quietly(lint, write, tmp_path):
    write("configs/llama.yml", ERRS)
    write("configs/ok.yaml", CLEAN)
    write(".github/workflows/ci.yml", WORKFLOW)
    write("configs/ci.yml", WORKFLOW)
    write("configs/notes.txt", "lora: not yaml at all")
    write("configs/broken_unrelated.yaml", "a: [1\n")
    write("configs/broken_lora.yaml", "lora:\n  r: [16\n")
    result = lint("check", tmp_path, "--output-format", "json")
    paths = sorted(entry["path"].rsplit("/", 1)[-1] for entry in result.json["files"])
    assert paths == ["broken_lora.yaml", "llama.yml", "ok.yaml"]
    assert result.code == 1


def test_explicit_non_lora_file_is_reported(lint, write):
    path = write("ci.yml", WORKFLOW)
    result = lint("check", path, "--output-format", "json")
    assert result.codes() == ["LL004"]
    assert result.code == 0  # a warning
    assert lint("check", path, "--skip-non-lora", "--output-format", "json").json["files"] == []


def test_exclude_and_force_exclude(lint, write, tmp_path):
    write("configs/legacy/old.yaml", ERRS)
    write("configs/new.yaml", CLEAN)
    result = lint("check", tmp_path, "--exclude", "legacy/**", "--output-format", "json")
    assert [e["path"].rsplit("/", 1)[-1] for e in result.json["files"]] == ["new.yaml"]
    explicit = tmp_path / "configs/legacy/old.yaml"
    assert lint("check", explicit, "--exclude", "legacy/**").code == 1
    assert lint("check", explicit, "--exclude", "legacy/**", "--force-exclude").code == 0


def test_dialect_override(lint, write):
    path = write("odd.yaml", "lora:\n  r: 16\n")
    assert lint("check", path, "--output-format", "json").json["files"][0]["dialect"] == "llmtune"
    result = lint("check", path, "--dialect", "peft", "--output-format", "json")
    assert result.json["files"][0]["dialect"] == "peft"
    flat = write("flat.yaml", "r: 16\ntarget_modules: [q_proj]\n")
    assert lint("check", flat, "--output-format", "json").json["files"][0]["dialect"] == "peft"


def test_glob_semantics():
    from lora_lint.settings import glob_match

    assert glob_match("configs/legacy/old.yaml", "legacy/**")
    assert glob_match("configs/legacy/old.yaml", "legacy")
    assert not glob_match("configs/legacy/old.yaml", "/legacy")
    assert glob_match("legacy/old.yaml", "/legacy")
    assert glob_match("experiments/a.yaml", "experiments/*.yaml")
    assert not glob_match("experiments/deep/a.yaml", "experiments/*.yaml")
    assert glob_match("experiments/deep/a.yaml", "experiments/**/*.yaml")
    assert not glob_match("configs/a.yml", "*.yaml")


def test_select_and_ignore(lint, write):
    path = write("x.yaml", "lora_config:\n  r: 0\n  lora_aplha: 16\n  target_modules: [q_proj, q_proj]\n")
    assert sorted(lint("check", path, "--output-format", "json").codes()) == ["LL101", "LL103", "LL109"]
    assert lint("check", path, "--select", "LL1", "--ignore", "unknown-key,LL109",
                "--output-format", "json").codes() == ["LL103"]
    assert lint("check", path, "--select", "out-of-range", "--output-format", "json").codes() == ["LL103"]


def test_pyproject_settings_nearest_wins(lint, write, tmp_path):
    write("pyproject.toml", '[tool.lora-lint]\nignore = ["LL103"]\n')
    write("sub/.lora-lint.toml", 'ignore = ["LL109"]\n[severity]\nLL103 = "warning"\n')
    write("sub/pyproject.toml", '[tool.lora-lint]\nignore = ["ALL"]\n')
    write("other/pyproject.toml", '[project]\nname = "x"\n')  # no [tool.lora-lint]: keep looking upward
    top = write("a.yaml", ERRS)
    sub = write("sub/a.yaml", ERRS.replace("[q_proj]", "[q_proj, q_proj]"))
    other = write("other/a.yaml", ERRS)
    assert lint("check", top, "--output-format", "json").codes() == []
    result = lint("check", sub, "--output-format", "json")
    assert [(d["code"], d["severity"]) for d in result.json["files"][0]["diagnostics"]] == [("LL103", "warning")]
    assert result.code == 0
    assert lint("check", other, "--output-format", "json").codes() == []


def test_per_file_ignores(lint, write, tmp_path):
    write(".lora-lint.toml", '[per-file-ignores]\n"experiments/*.yaml" = ["out-of-range"]\n')
    assert lint("check", write("experiments/a.yaml", ERRS), "--output-format", "json").codes() == []
    assert lint("check", write("configs/a.yaml", ERRS), "--output-format", "json").codes() == ["LL103"]


def test_bad_settings_exit_2(lint, write):
    write(".lora-lint.toml", 'selectt = ["LL1"]\n')
    result = lint("check", write("a.yaml", CLEAN))
    assert result.code == 2 and "unknown setting" in result.err
    write(".lora-lint.toml", 'select = ["LL777"]\n')
    assert lint("check", write("a.yaml", CLEAN)).code == 2
    write(".lora-lint.toml", 'select = [\n')
    assert "invalid TOML" in lint("check", write("a.yaml", CLEAN)).err


def test_show_settings(lint, write, tmp_path):
    write(".lora-lint.toml", 'ignore = ["LL109"]\npeft-version = "0.13.2"\n[severity]\nLL103 = "warning"\n')
    result = lint("check", tmp_path, "--show-settings")
    assert result.code == 0
    assert f"settings file: {tmp_path / '.lora-lint.toml'}" in result.out
    assert "ignored rules: LL109" in result.out
    assert "severity: LL103 [out-of-range] = warning" in result.out
    assert "peft-version: 0.13.2" in result.out


def test_peft_version_setting_changes_what_is_known(lint, write):
    path = write("a.yaml", "r: 8\ntarget_modules: [q_proj]\nuse_dora: true\n")
    assert lint("check", path, "--output-format", "json").codes() == []
    result = lint("check", path, "--peft-version", "0.8.2", "--output-format", "json")
    assert result.codes() == ["LL111"]
    assert "needs PEFT 0.9.0 or newer" in result.json["files"][0]["diagnostics"][0]["message"]


def test_end_of_line_suppression(lint, write):
    path = write("a.yaml", "lora:\n  r: 0  # lora-lint: ignore[LL103]\n  target_modules: [q_proj]\n")
    result = lint("check", path, "--output-format", "json")
    assert result.codes() == [] and result.code == 0


def test_own_line_suppression_covers_the_node_and_its_children(lint, write):
    content = ("lora:\n  r: 16\n  # lora-lint: ignore[regex-in-list-entry]\n  target_modules:\n"
               "    - .*q_proj\n    - v_proj|k_proj\n  modules_to_save: [.*head]\n")
    result = lint("check", write("a.yaml", content), "--output-format", "json", "--select", "LL1")
    assert [(d["code"], d["line"]) for d in result.json["files"][0]["diagnostics"]] == [("LL108", 7)]


def test_unused_and_unknown_suppressions_are_reported(lint, write):
    content = "lora:\n  r: 16  # lora-lint: ignore[LL103, LL999]\n  target_modules: [q_proj]\n"
    result = lint("check", write("a.yaml", content), "--output-format", "json")
    messages = [d["message"] for d in result.json["files"][0]["diagnostics"]]
    assert result.codes() == ["LL005", "LL005"]
    assert any("unknown rule `LL999`" in m for m in messages)
    assert any("`LL103` suppresses nothing" in m for m in messages)


def test_suppression_text_inside_a_string_is_not_a_comment(lint, write):
    content = 'lora:\n  r: 0\n  target_modules: ["a # lora-lint: ignore[LL103]"]\n'
    assert "LL103" in lint("check", write("a.yaml", content), "--output-format", "json").codes()


def test_pre_commit_hook_definition():
    from pathlib import Path

    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load(Path(__file__).parent.parent.joinpath(".pre-commit-hooks.yaml"))
    assert [hook["id"] for hook in hooks] == ["lora-lint", "lora-lint-fix"]
    for hook in hooks:
        assert hook["language"] == "python"
        assert hook["types_or"] == ["yaml", "json"] and hook["require_serial"] is True
        assert hook["entry"].startswith("lora-lint check")
    assert "--fix" in hooks[1]["entry"].split()
