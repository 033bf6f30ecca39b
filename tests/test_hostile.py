"""Hostile inputs end quickly, in little memory, with a diagnostic at the node where a limit is crossed.

Each case runs `lora-lint check` in a child process (tests/measure.py) and asserts the diagnostics, the exit code,
that the JSON output parses, and the bounds: under 2 s of CPU and 200 MB peak RSS. Before these limits, the alias
bomb ran past 120 s at 4.5 GB, 600-deep nesting crashed with RecursionError, the size cases were killed at 120 s
(1.3-3.8 GB), and the catastrophic regexes hung.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lora_lint.source import Node, parse_text
from lora_lint.diagnostics import Span

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "fixtures" / "hostile"
CPU_SECONDS, PEAK_MB = 2.0, 200

# A toolkit fragment (`model:` and `lora:`), whose unknown keys the toolkit ignores (LL135).
TOOLKIT_GPT2 = ("model:\n  hf_model_ckpt: openai-community/gpt2\nlora:\n  r: 8\n  lora_alpha: 16\n"
                "  fan_in_fan_out: true\n")
GPT2 = ("# flat LoraConfig keys\nmodel_name_or_path: openai-community/gpt2\nlora_config:\n"
        "  r: 8\n  lora_alpha: 16\n  fan_in_fan_out: true\n")


def _measure(path: Path, *args: str, cwd: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, str(ROOT / "tests" / "measure.py"), sys.executable, "-m", "lora_lint", "check",
               "--offline", "--output-format", "json", *args, str(path)]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    result["json"] = json.loads(result["out"]) if result["out"] else None
    return result


def _assert_bounded(result: dict, code: int = 1) -> list[dict]:
    assert result["err"] == "", result["err"]
    assert result["code"] == code
    assert result["cpu_s"] < CPU_SECONDS, f"{result['cpu_s']:.2f} s of CPU"
    assert result["peak_rss_mb"] < PEAK_MB, f"{result['peak_rss_mb']:.0f} MB peak RSS"
    return result["json"]["files"][0]["diagnostics"]


def _has(diagnostics: list[dict], code: str, line: int, text: str) -> None:
    found = [d for d in diagnostics if d["code"] == code and d["line"] == line and text in d["message"]]
    assert found, f"no {code}@{line} containing {text!r} in:\n" + "\n".join(
        f"  {d['code']}@{d['line']}:{d['column']} {d['message']}" for d in diagnostics)


# (fixture, code, line, message part): small reproducers, kept as files (fixtures/expected.toml lists all they get)
FIXTURE_CASES = [
    ("alias_bomb.yml", "LL006", 11, "an alias bomb"),
    ("recursive_alias.yml", "LL006", 8, "recursive alias"),
    ("deep_flow.yml", "LL006", 9, "nesting deeper than 64 levels"),
    ("deep_block.yml", "LL006", 73, "nesting deeper than 64 levels"),
    ("catastrophic_target_regex.yml", "LL330", 8, "backtracks catastrophically on module names; PEFT would hang"),
    ("catastrophic_exclude_modules.yml", "LL330", 8, "backtracks catastrophically"),
    ("catastrophic_layers_pattern.yml", "LL330", 9, "backtracks catastrophically"),
    ("catastrophic_rank_pattern.yml", "LL330", 9, "backtracks catastrophically"),
    ("invalid_layers_pattern.yml", "LL330", 9, "not a valid regular expression"),
]


@pytest.mark.parametrize("name, code, line, text", FIXTURE_CASES, ids=[case[0] for case in FIXTURE_CASES])
def test_hostile_fixture_is_bounded(name, code, line, text):
    _has(_assert_bounded(_measure(HOSTILE / name)), code, line, text)


def _block_list(count: int) -> str:
    return GPT2 + "  target_modules:\n" + "".join(f"    - m{i}\n" for i in range(count))


def _flow_list(key: str, items) -> str:
    return GPT2 + f"  {key}: [" + ", ".join(items) + "]\n"


# Generated at test time: these are megabytes.
GENERATED = {
    "lines_100k.yml": (lambda: _block_list(100_000), [
        ("LL006", 1008, "list with at least 4,9"), ("LL006", 4995, "more than 5,000 nodes")]),
    "target_modules_100k.yml": (lambda: _flow_list("target_modules", (f"m{i}" for i in range(100_000))), [
        ("LL006", 7, "reads the first 1,000"), ("LL006", 7, "stopped reading here"),
        ("LL301", 7, "more target-not-found findings")]),
    "target_modules_1m_single_line.yml": (lambda: _flow_list("target_modules", (f"m{i}" for i in range(1_000_000))),
                                          [("LL006", 7, "stopped reading here")]),
    "layers_to_transform_1m.yml": (lambda: GPT2 + "  target_modules: [c_attn]\n  layers_to_transform: ["
                                   + ", ".join(str(i % 12) for i in range(1_000_000)) + "]\n",
                                   [("LL006", 8, "reads the first 1,000"), ("LL109", 8, "more duplicate-entry")]),
    "unknown_keys_20k.yml": (lambda: TOOLKIT_GPT2 + "".join(f"  unknown_key_{i}: 1\n" for i in range(20_000)), [
        ("LL006", 504, "mapping with at least"), ("LL135", 57, "and 447 more trainer-ignores-key findings")]),
    "alpha_pattern_regex.yml": (lambda: GPT2 + "  target_modules: [c_attn]\n  alpha_pattern:\n"
                                "    '(\\w+\\.?)+c_projx': 4\n", [("LL330", 9, "backtracks catastrophically")]),
    "suppressions_10k.yml": (lambda: TOOLKIT_GPT2 + "  target_modules: [c_attn]\n"
                             + "  # lora-lint: ignore[trainer-ignores-key]\n" * 10_000 + "  bogus_key: 1\n"
                             + "".join(f"  bogus_{i}: 1  # lora-lint: ignore[trainer-ignores-key]\n"
                                       for i in range(400)),
                             [("LL005", 9, "suppresses nothing"), ("LL005", 59, "more unused-suppression")]),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_hostile_file_is_bounded(name, tmp_path):
    build, expected = GENERATED[name]
    path = tmp_path / name
    path.write_text(build())
    result = _measure(path)
    # Unused suppressions are warnings: exit 0 for the file whose findings are all suppressed.
    diagnostics = _assert_bounded(result, code=0 if name.startswith("suppressions") else 1)
    for code, line, text in expected:
        _has(diagnostics, code, line, text)
    assert len(result["out"]) < 200_000, "the report is bounded too"


def test_limits_are_configurable(tmp_path):
    (tmp_path / ".lora-lint.toml").write_text("[limits]\nmax-list-entries = 2\nmax-findings-per-rule = 1\n")
    path = tmp_path / "config.yml"
    path.write_text(GPT2 + "  target_modules: [c_attn, nope_a, nope_b, nope_c]\n  bogus_a: 1\n  bogus_b: 2\n")
    diagnostics = _assert_bounded(_measure(path, cwd=tmp_path))
    _has(diagnostics, "LL006", 7, "list with 4 entries; lora-lint reads the first 2")
    _has(diagnostics, "LL101", 9, "and 1 more unknown-key finding in this file")
    assert [d["column"] for d in diagnostics if d["code"] == "LL006"] == [36]  # at the first entry left out, nope_b


def test_a_bad_limit_setting_is_a_usage_error(lint, tmp_path):
    (tmp_path / ".lora-lint.toml").write_text("[limits]\nmax-depth = 100000\n")
    path = tmp_path / "config.yml"
    path.write_text(GPT2)
    result = lint("check", path)
    assert result.code == 2
    assert "max-depth must be at most 200" in result.err


def test_tree_walks_do_not_recurse():
    """Node.walk and Node.to_python handle any depth (the parser bounds it, but a limit is a setting)."""
    leaf = Node("scalar", Span.point(1, 1), value=1)
    node = leaf
    for _ in range(50_000):
        node = Node("seq", Span.point(1, 1), items=[node])
    assert sum(1 for _ in node.walk()) == 50_001
    value = node.to_python()
    for _ in range(50_000):
        value = value[0]
    assert value == 1


def test_aliases_within_the_limits_are_shared_not_reported():
    parsed = parse_text("c.yml", "base: &b {r: 8}\nlora:\n  <<: *b\n  x: [*b, *b]\n")
    assert parsed.diagnostics == []
    assert parsed.root.to_python() == {"base": {"r": 8}, "lora": {"x": [{"r": 8}, {"r": 8}], "r": 8}}


# Crashes the fuzz suite found, kept as regressions.
FUZZ_FINDINGS = {
    "complex_keys_only.yml": ("? [a, b]\n: c\n", "LL004"),
    "model_id_too_long.yaml": ('base_model_name_or_path: "' + "a" * 300 + '"\nr: 8\n', "LL201"),
    "model_id_with_nul.yaml": ('base_model_name_or_path: "a\\0b"\nr: 8\n', "LL201"),
    "regex_nested_too_deep.json": (json.dumps({"base_model_name_or_path": "openai-community/gpt2", "peft_type": "LORA",
                                               "r": 8, "target_modules": ["c_attn"], "layers_to_transform": [0],
                                               "layers_pattern": "(" * 3000}), "LL330"),
}


@pytest.mark.parametrize("name", sorted(FUZZ_FINDINGS))
def test_fuzz_finding_is_a_diagnostic(name, lint, write, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    content, code = FUZZ_FINDINGS[name]
    result = lint("check", "--offline", write(name, content), "--output-format", "json")
    assert result.err == ""
    assert code in result.codes(), result.out
