"""Configs that are not stepped say why; models that cannot be stepped are diagnostics; misuse is a usage error."""

import sys

import pytest

from lora_lint.train_step import miniature
from tests.train_step.conftest import codes_and_lines


def test_static_errors_are_not_stepped(step, write):
    path = write("a.yaml", "base_model_name_or_path: distilbert/distilgpt2\nr: 8\ntarget_modules: [q_proj]\n")
    code, entry = step(path)
    assert entry["train_step"]["status"] == "skipped"
    assert "static checks found 1 error" in entry["train_step"]["reason"]
    assert ("LL301", 3) in codes_and_lines(entry) and ("LL400", 1) in codes_and_lines(entry)
    assert code == 1


def test_check_train_step_steps_only_clean_files(lint, write):
    clean = write("clean.yaml", "base_model_name_or_path: distilbert/distilgpt2\nr: 8\nfan_in_fan_out: true\n"
                                "target_modules: [c_attn]\n")
    broken = write("broken.yaml", "base_model_name_or_path: distilbert/distilgpt2\nr: 0\ntarget_modules: [c_attn]\n")
    result = lint("check", clean, broken, "--train-step", "--output-format", "json")
    by_name = {f["path"].rsplit("/", 1)[-1]: f for f in result.json["files"]}
    assert by_name["clean.yaml"]["train_step"]["status"] == "passed"
    assert by_name["broken.yaml"]["train_step"]["status"] == "skipped"
    assert result.code == 1
    # Without the flag, no step and no train_step key.
    assert "train_step" not in lint("check", clean, "--output-format", "json").json["files"][0]


def test_model_that_needs_remote_code_is_not_stepped(step, write, model_dir):
    directory = model_dir({"model_type": "acme-net", "architectures": ["AcmeForCausalLM"],
                           "auto_map": {"AutoModelForCausalLM": "modeling_acme.AcmeForCausalLM"}})
    code, entry = step(write("a.yaml", f"base_model_name_or_path: {directory}\nr: 8\ntarget_modules: [q_proj]\n"))
    assert entry["train_step"]["status"] == "skipped"
    assert "trust_remote_code" in entry["train_step"]["reason"]
    assert code == 0  # LL202 is a warning; nothing was run


def test_model_that_cannot_be_miniaturised_is_a_finding(step, write, monkeypatch):
    real = miniature.miniature_config

    def broken(config, experts_as_modules=False):
        shrunk, shape = real(config, experts_as_modules)
        return dict(shrunk, n_head=5), shape  # 64 wide with 5 heads: GPT-2 refuses it

    monkeypatch.setattr(miniature, "miniature_config", broken)
    code, entry = step(write("a.yaml", "base_model_name_or_path: distilbert/distilgpt2\nr: 8\nfan_in_fan_out: true\n"
                                       "target_modules: [c_attn]\n"))
    assert codes_and_lines(entry) == [("LL401", 1)]
    assert "cannot build a miniature of distilbert/distilgpt2" in entry["diagnostics"][0]["message"]
    assert code == 1


@pytest.mark.parametrize("args", [["--data", "rows.jsonl"], ["--device", "cpu"]])
def test_real_mode_options_need_weights(lint, write, args):
    path = write("a.yaml", "r: 8\n")
    result = lint("train-step", path, *args)
    assert result.code == 2 and "need --weights" in result.err


def test_step_options_need_train_step(lint, write):
    result = lint("check", write("a.yaml", "r: 8\n"), "--weights", "somewhere")
    assert result.code == 2 and "need --train-step" in result.err


def test_progress_line_on_a_terminal(lint, write, monkeypatch):
    path = write("a.yaml", "base_model_name_or_path: distilbert/distilgpt2\nr: 8\nfan_in_fan_out: true\n"
                           "target_modules: [c_attn]\n")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    result = lint("train-step", path)
    assert "train-step: " in result.err and "building the miniature of distilbert/distilgpt2" in result.err
    assert result.err.endswith("\r\x1b[K")  # the line is cleared before the report
    assert "train step passed" in result.out and result.code == 0


def test_full_report_line(lint, write):
    path = write("a.yaml", "base_model_name_or_path: distilbert/distilgpt2\nr: 8\nfan_in_fan_out: true\n"
                           "target_modules: [c_attn]\n")
    out = lint("train-step", path).out
    assert "train step passed (6/6 checks; miniature GPT2LMHeadModel (n_embd 768→64, n_head 12→4), causal_lm on " \
           "cpu; loss " in out
