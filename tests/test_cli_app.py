"""The command line itself (click): help, version, suggestions, usage errors, shell completion."""

import os
import subprocess
import sys

import pytest


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lora_lint", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_bare_command_prints_help(lint):
    result = lint()
    assert result.code == 0
    assert result.out.startswith("Usage: lora-lint [OPTIONS] [COMMAND]")
    for command in ("check", "explain", "rules", "models", "modules", "schema", "completion"):
        assert f"\n  {command} " in result.out


def test_short_help_and_option_groups(lint):
    result = lint("check", "-h")
    assert result.code == 0 and result.out.startswith("Usage: lora-lint check [OPTIONS] [PATHS]...")
    headings = [line for line in result.out.splitlines() if line and not line.startswith(" ")]
    assert headings[1:] == ["Output:", "Rule selection:", "File selection:", "Base model and PEFT:", "Exit status:",
                            "Fixes:", "Training step:", "Options:"]
    assert lint("--help").out == lint("-h").out


def test_version(lint):
    from lora_lint import __version__

    for flag in ("-V", "--version"):
        result = lint(flag)
        assert result.code == 0 and result.out == f"lora-lint {__version__}\n"


@pytest.mark.parametrize("args, message", [
    (["chek", "."], "No such command 'chek'. Did you mean 'check'?"),
    (["check", "--outptu-format", "json"], "No such option '--outptu-format'. (Did you mean one of: '--output-file', '--output-format'?)"),
    (["check", "--output-format", "xml"], "'xml' is not one of 'full', 'concise', 'json', 'github', 'sarif'"),
    (["check", "--select", "unknwn-key"], "unknown rule `unknwn-key`; did you mean `unknown-key`?"),
    (["check", "--ignore", "LL10l"], "unknown rule `LL10l`; did you mean `LL101`"),
    (["explain", "LL1O1"], "unknown rule `LL1O1`; did you mean `LL101`"),
    (["modules"], "Missing argument 'MODEL'"),
])
def test_usage_errors_name_the_command_and_suggest(lint, args, message):
    result = lint(*args)
    assert result.code == 2
    assert message in result.err
    command = args[0] if args[0] in ("check", "explain", "modules") else ""
    assert result.err.startswith(f"Usage: lora-lint {command}".rstrip() + " [OPTIONS]")
    assert result.out == ""


def test_quiet_and_verbose_contradict(lint):
    assert lint("check", "-q", "-v").code == 2


@pytest.mark.parametrize("shell, env, expected", [
    ("bash", {"COMP_WORDS": "lora-lint ch", "COMP_CWORD": "1"}, "plain,check"),
    ("zsh", {"COMP_WORDS": "lora-lint check --output-f", "COMP_CWORD": "2"}, "--output-format"),
    ("fish", {"COMP_WORDS": "lora-lint check --output-format ", "COMP_CWORD": "--output-format "}, "concise"),
])
def test_shell_completion_through_clicks_mechanism(shell, env, expected):
    result = run(env={"_LORA_LINT_COMPLETE": f"{shell}_complete", **env})
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"), ("zsh", "#compdef lora-lint"),
                                           ("fish", "complete --no-files --command lora-lint")])
def test_completion_command_prints_the_script(lint, shell, marker):
    result = lint("completion", shell)
    assert result.code == 0 and marker in result.out and "_LORA_LINT_COMPLETE" in result.out


def test_help_is_styled_only_on_a_terminal():
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    process = subprocess.run([sys.executable, "-m", "lora_lint", "check", "-h"], stdout=follower,
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
    assert process.returncode == 0
    assert b"\x1b[4mOutput\x1b[0m:" in output
    assert b"\x1b[" not in run("check", "-h").stdout.encode()


def test_models_lists_the_catalogue(lint, write):
    from lora_lint.model import catalog

    text = lint("models")
    assert text.code == 0
    rows = {row["id"]: row for row in lint("models", "--format", "json").json}
    assert set(rows) == {entry.id for entry in catalog.entries()}
    for entry in catalog.entries():
        assert entry.id in text.out
        assert rows[entry.id]["aliases"] == list(entry.aliases)
    assert "gpt2" in rows["openai-community/gpt2"]["aliases"]
    assert rows["google-t5/t5-small"]["stacks"] == {"encoder.block": 6, "decoder.block": 6}
    assert "T5ForConditionalGeneration" in rows["google-t5/t5-small"]["classes"]
    # The layer count is the one `check` reports for the model.
    config = write("a.yml", "model:\n  hf_model_ckpt: meta-llama/Llama-3.2-1B\nlora:\n  target_modules: [q_proj]\n")
    checked = lint("check", config, "--output-format", "json").json["files"][0]["model"]["layers"]
    assert rows["meta-llama/Llama-3.2-1B"]["layers"] == checked == 16
