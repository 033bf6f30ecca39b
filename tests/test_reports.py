"""Each output format, checked for content."""

import json

import pytest

BAD = """model_name_or_path: NousResearch/Llama-2-7b-hf
# passed as LoraConfig(**cfg["lora_config"])
lora_config:
  r: 16
  lora_aplha: 32
  lora_dropout: 0.05
  target_modules: [q_proj, v_proj, q_proj]
"""


@pytest.fixture
def bad(write):
    return write("configs/llama.yml", BAD)


def test_full_format(lint, bad):
    result = lint("check", bad)
    assert result.code == 1
    out = result.out
    assert "error: LL101 [unknown-key] unknown key `lora_aplha`" in out
    assert f" --> {bad.as_posix()}:5:3" in out
    assert "5 |   lora_aplha: 32\n  |   ^^^^^^^^^^\n" in out
    assert "help: did you mean `lora_alpha`?" in out
    assert "warning: LL109 [duplicate-entry]" in out
    assert "7 |   target_modules: [q_proj, v_proj, q_proj]\n  |                                    ^^^^^^\n" in out
    assert out.rstrip().endswith("Found 1 error, 1 warning.\n[*] 1 fixable with `--fix` (1 more with `--unsafe-fixes`).")
    assert "\x1b[" not in out  # not a terminal: no color


def test_full_format_clean(lint, write):
    result = lint("check", write("ok.yaml", "r: 8\ntarget_modules: [q_proj]\n"))
    assert result.code == 0
    assert result.out == "All checks passed (1 file).\n"


def test_full_format_ends_each_file_with_what_gets_lora(lint, write):
    # no model named: the toolkit trains its default, NousResearch/Llama-2-7b-hf (32 layers, 4096 wide)
    path = write("ok.yaml", "lora:\n  r: 8\n  target_modules: [q_proj, v_proj]\n  layers_to_transform: [0, 1]\n")
    result = lint("check", path)
    lora_parameters = 4 * 8 * (4096 + 4096)  # 2 modules x 2 layers, A (8x4096) + B (4096x8)
    assert f"{path.as_posix()}: 4 modules get LoRA in 2 layers; {lora_parameters:,} trainable parameters" in result.out
    document = lint("check", path, "--output-format", "json").json["files"][0]
    assert document["targets"] == [f"model.layers.{i}.self_attn.{p}" for i in (0, 1) for p in ("q_proj", "v_proj")]
    assert document["trainable_parameters"] == lora_parameters
    assert document["model"]["id"] == "NousResearch/Llama-2-7b-hf" and document["model"]["layers"] == 32


def test_concise_format(lint, bad):
    result = lint("check", bad, "--output-format", "concise")
    assert result.out.splitlines() == [
        f"{bad.as_posix()}:5:3: error: LL101 [unknown-key] unknown key `lora_aplha`: not a LoraConfig field, "
        "`LoraConfig(**config)` raises TypeError on it",
        f"{bad.as_posix()}:7:36: warning: LL109 [duplicate-entry] `q_proj` appears twice in `target_modules` "
        "(first on line 7)",
        "Found 1 error, 1 warning.",
    ]


def test_concise_format_clean_and_quiet(lint, write, bad):
    clean = write("ok.yaml", "r: 8\ntarget_modules: [q_proj]\n")
    assert lint("check", clean, "--output-format", "concise").out == "All checks passed!\n"
    assert lint("check", clean, "--output-format", "concise", "-q").out == ""
    quiet = lint("check", bad, "--output-format", "concise", "--quiet").out.splitlines()
    assert len(quiet) == 2 and all(": error: " in line or ": warning: " in line for line in quiet)
    full_quiet = lint("check", bad, "-q").out
    assert "Found" not in full_quiet and "modules get LoRA" not in full_quiet and "error: LL101" in full_quiet


def test_json_format(lint, bad):
    document = lint("check", bad, "--output-format", "json").json
    assert document["version"] == 1
    assert document["summary"] == {"files": 1, "errors": 1, "warnings": 1, "info": 0}
    [entry] = document["files"]
    assert entry["path"] == bad.as_posix()
    assert entry["dialect"] == "peft"
    assert "model" in entry and "targets" in entry
    first = entry["diagnostics"][0]
    assert first == {
        "code": "LL101", "name": "unknown-key", "severity": "error",
        "message": "unknown key `lora_aplha`: not a LoraConfig field, `LoraConfig(**config)` raises TypeError on it",
        "line": 5, "column": 3, "end_line": 5, "end_column": 13, "help": "did you mean `lora_alpha`?",
        "fix": {"applicability": "unsafe", "message": "renamed `lora_aplha` to `lora_alpha`"},
    }
    assert entry["diagnostics"][1]["severity"] == "warning"


def test_github_format_escapes(lint, write):
    path = write("we,ird:name.yaml", "lora:\n  r: 16\n  target_modules: [q_proj]\n  task_type: causal_lm\n")
    result = lint("check", path, "--output-format", "github")
    [line] = result.out.splitlines()
    assert line.startswith("::error file=")
    assert "we%2Cird%3Aname.yaml" in line
    assert ",line=4,col=14,endLine=4,endColumn=23,title=LL104 [invalid-value]::" in line
    assert "%0Ahelp: write `task_type: CAUSAL_LM`" in line
    assert "\n" not in line


def test_github_escaping_rules():
    from lora_lint.report.github import escape_data, escape_property

    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_sarif_format(lint, bad, monkeypatch):
    monkeypatch.chdir(bad.parent.parent)
    document = json.loads(lint("check", "configs/llama.yml", "--output-format", "sarif").out)
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-2.1.0.json")
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "lora-lint" and driver["version"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert rules["LL101"]["name"] == "unknown-key"
    assert rules["LL101"]["shortDescription"]["text"]
    assert "lora_aplha" in rules["LL101"]["help"]["text"]  # the rule doc, with its examples
    assert rules["LL101"]["fullDescription"]["text"].startswith("Reports keys")
    result = run["results"][0]
    assert result["ruleId"] == "LL101" and result["level"] == "error"
    assert driver["rules"][result["ruleIndex"]]["id"] == "LL101"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "configs/llama.yml"
    assert location["region"] == {"startLine": 5, "startColumn": 3, "endLine": 5, "endColumn": 13}
    assert run["results"][1]["level"] == "warning"


def test_color_only_on_a_terminal(bad):
    from lora_lint.diagnostics import Diagnostic, FileReport, Position, Severity, Span
    from lora_lint.report import full

    report = FileReport("x.yaml", diagnostics=[Diagnostic(
        "LL101", "m", Span(Position(1, 1), Position(1, 2)), name="unknown-key", severity=Severity.ERROR)],
        source_lines=["r: 1"])
    assert "\x1b[" in full.render([report], color=True)
    assert "\x1b[" not in full.render([report], color=False)


@pytest.mark.parametrize("no_color, colored", [(None, True), ("1", False)])
def test_color_on_a_real_terminal_unless_no_color(bad, no_color, colored):
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = no_color
    process = subprocess.run([sys.executable, "-m", "lora_lint", "check", str(bad)], stdout=follower,
                             stderr=subprocess.PIPE, env=env, timeout=60)
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.returncode == 1
    assert b"unknown key" in output
    assert (b"\x1b[" in output) is colored
