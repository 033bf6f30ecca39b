"""`check` as a CI gate and pre-commit hook use it: stdin, output file, statistics, verbosity, colour, skipped files,
and big files that are not LoRA configs."""

import json
import time

import pytest

CLEAN = "lora:\n  r: 16\n  lora_alpha: 32\n  target_modules: [q_proj, v_proj]\n"
ERRS = "lora:\n  r: 0\n  target_modules: [q_proj]\n"


def test_stdin_with_a_filename(lint, write, tmp_path, monkeypatch):
    import io

    write("sub/.lora-lint.toml", 'ignore = ["out-of-range"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ERRS.encode())))
    result = lint("check", "-", "--stdin-filename", "configs/run.yml", "--output-format", "concise")
    assert result.code == 1
    assert result.out.splitlines()[0].startswith("configs/run.yml:2:6: error: LL103 [out-of-range]")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ERRS.encode())))
    assert lint("check", "-", "--stdin-filename", "sub/run.yml").code == 0  # that directory's settings apply
    # The name's suffix decides how it is read: JSON loaders reject a trailing comma that YAML accepts.
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"r": 8, "target_modules": ["q_proj"],}')))
    assert lint("check", "-", "--stdin-filename", "adapter_config.json", "--output-format", "json").codes() == [
        "LL001"]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(ERRS.encode())))
    plain = lint("check", "-", "--output-format", "json")
    assert plain.json["files"][0]["path"] == "-" and plain.codes() == ["LL103"]


def test_stdin_filename_needs_stdin(lint, write):
    result = lint("check", write("a.yml", CLEAN), "--stdin-filename", "x.yml")
    assert result.code == 2 and "pass `-` as the path" in result.err


def test_output_file(lint, write, tmp_path):
    target = tmp_path / "out" / "report.json"
    result = lint("check", write("c.yaml", ERRS), "--output-format", "json", "--output-file", target)
    assert result.code == 1 and result.out == ""
    assert [d["code"] for d in json.loads(target.read_text())["files"][0]["diagnostics"]] == ["LL103"]
    blocked = write("file", "x") / "report.json"
    failed = lint("check", write("c.yaml", ERRS), "-o", blocked)
    assert failed.code == 2 and "cannot write" in failed.err


def test_statistics(lint, write, tmp_path):
    write("a.yaml", "lora_config:\n  r: 0\n  lora_aplha: 16\n  bias: none\n  target_modules: [q_proj, q_proj]\n")
    write("b.yaml", "lora_config:\n  r: 8\n  lora_alhpa: 16\n  lora_dropot: 1\n  bias: none\n  task_type: CAUSAL_LM\n"
                    "  target_modules: [q_proj]\n")
    result = lint("check", tmp_path, "--statistics")
    assert result.code == 1
    assert result.out.splitlines() == ["3  LL101  error    unknown-key", "1  LL103  error    out-of-range",
                                       "1  LL109  warning  duplicate-entry"]
    as_json = lint("check", tmp_path, "--statistics", "--output-format", "json").json
    assert as_json[0] == {"code": "LL101", "name": "unknown-key", "severity": "error", "count": 3}


def test_verbose_says_what_was_linted_and_skipped(lint, write, tmp_path):
    write("a.yaml", CLEAN)
    write("ci.yml", "name: ci\non: [push]\n")
    result = lint("check", tmp_path, "-v")
    assert result.code == 0
    assert f"lora-lint: linted {(tmp_path / 'a.yaml').as_posix()}: llmtune config, model " in result.err
    assert f"lora-lint: skipped {(tmp_path / 'ci.yml').as_posix()}: not a LoRA config" in result.err
    assert "linted" not in lint("check", tmp_path).err


@pytest.mark.parametrize("env, flag, colored", [
    ({}, [], False), ({"FORCE_COLOR": "1"}, [], True), ({"FORCE_COLOR": "1"}, ["--color", "never"], False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, [], False), ({"NO_COLOR": "1"}, ["--color", "always"], True),
    ({}, ["--color", "always"], True),
])
def test_color_choice_and_environment(lint, write, monkeypatch, env, flag, colored):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = lint("check", write("c.yaml", ERRS), *flag)
    assert ("\x1b[" in result.out) is colored
    assert "error: LL103" in result.out.replace("\x1b[0m", "").replace("\x1b[1;31m", "")


def test_a_directory_without_configs_says_what_was_skipped(lint, write, tmp_path):
    write("ci.yml", "name: ci\non: [push]\n")
    write("compose.yml", "services:\n  web:\n    image: nginx\n")
    result = lint("check", tmp_path)
    assert result.code == 0
    assert result.out == "Skipped 2 files that are not LoRA configs.\n"
    write("ok.yml", CLEAN)
    assert lint("check", tmp_path, "--output-format", "concise").out == "All checks passed!\n"


def tokenizer_json(megabytes: float) -> str:
    """A tokenizer.json shaped like the real ones: a huge vocab and merges, no LoRA anywhere near the top."""
    size = int(megabytes * 1024 * 1024 / 28)
    vocab = {f"tok{i}lora": i for i in range(size)}  # "lora" inside tokens must not make it look like a config
    merges = [f"t ok{i}" for i in range(size // 2)]
    return json.dumps({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
                       "model": {"type": "BPE", "vocab": vocab, "merges": merges}})


def test_big_json_that_is_not_a_config_is_skipped_without_composing_it(lint, write, tmp_path, monkeypatch):
    import lora_lint.source

    write("tokenizer.json", tokenizer_json(8))
    write("big.yaml", "items:\n" + "".join(f"  - name: item{i}\n    size: {i}\n" for i in range(40_000)))
    write("adapter/adapter_config.json", json.dumps({"peft_type": "LORA", "r": 0, "target_modules": ["q_proj"]}))
    composed = []
    real_parse_text = lora_lint.source.parse_text
    monkeypatch.setattr(lora_lint.source, "parse_text",
                        lambda path, *a, **k: composed.append(path) or real_parse_text(path, *a, **k))
    monkeypatch.setattr("lora_lint.lint.parse_file", lambda path, data, *a: lora_lint.source.parse_file(path, data, *a))
    start = time.perf_counter()
    result = lint("check", tmp_path, "--output-format", "json")
    elapsed = time.perf_counter() - start
    assert [f["path"].rsplit("/", 1)[-1] for f in result.json["files"]] == ["adapter_config.json"]
    assert [p.rsplit("/", 1)[-1] for p in composed] == ["adapter_config.json"]
    assert elapsed < 20  # composing the 8 MiB file alone took 30 s before


def assert_sniff_agrees(paths) -> int:
    """A file the cheap decision skips must be one the full parse skips too, for the same reason."""
    from lora_lint.lint import LintOptions, Skipped, lint_or_skip
    from lora_lint.settings import Settings
    from lora_lint.sniff import skip_reason

    checked = 0
    for path in paths:
        reason = skip_reason(path.name, path.read_bytes(), None)
        full = lint_or_skip(path, Settings(), LintOptions(offline=True), False)
        if reason is not None:
            assert isinstance(full, Skipped) and full.reason == reason, path
        checked += 1
    return checked


def as_json_files(paths, folder):
    """The YAML files that PyYAML-style loading turns into JSON, written as .json (the path JSON files take)."""
    from ruamel.yaml import YAML

    written = []
    for i, path in enumerate(paths):
        try:
            loaded = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
            text = json.dumps(loaded, default=str)
        except Exception:
            continue
        target = folder / f"{i}.json"
        target.write_text(text)
        written.append(target)
    return written


def test_the_cheap_decision_agrees_with_the_full_parse_on_every_fixture(tmp_path):
    from pathlib import Path

    fixtures = [p for p in sorted(Path(__file__).parent.parent.joinpath("fixtures").rglob("*"))
                if p.suffix in (".yml", ".yaml", ".json")]
    assert assert_sniff_agrees(fixtures) == len(fixtures) > 50
    # Not the hostile fixtures: loading them whole is what they are built to make a loader choke on (an alias bomb
    # expands to billions of nodes).
    converted = as_json_files([p for p in fixtures if p.suffix != ".json" and p.parent.name != "hostile"], tmp_path)
    assert assert_sniff_agrees(converted) > 40


def test_the_cheap_decision_agrees_with_the_full_parse_on_the_real_corpus(real_configs, tmp_path):
    files = [p for p in sorted(real_configs.rglob("*")) if p.suffix in (".yml", ".yaml", ".json")]
    assert assert_sniff_agrees(files) == len(files)
    assert_sniff_agrees(as_json_files([p for p in files if p.suffix != ".json"], tmp_path))


def run_with_stderr_on_a_terminal(args):
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    process = subprocess.run([sys.executable, "-m", "lora_lint", *args], stdout=subprocess.PIPE, stderr=follower,
                             env={**env, "TERM": "xterm"}, timeout=120)
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
    return process, output.decode(errors="replace")


def test_progress_on_a_terminal_only(lint, write, tmp_path):
    from lora_lint.progress import PROGRESS_MIN_FILES

    for i in range(PROGRESS_MIN_FILES):
        write(f"configs/c{i}.yml", CLEAN)
    process, terminal = run_with_stderr_on_a_terminal(["check", str(tmp_path), "--output-format", "json"])
    assert process.returncode == 0
    assert "linting" in terminal and f"{PROGRESS_MIN_FILES}/{PROGRESS_MIN_FILES}" in terminal
    assert len(json.loads(process.stdout)["files"]) == PROGRESS_MIN_FILES  # stdout stays clean
    assert lint("check", tmp_path, "--output-format", "json").err == ""  # not a terminal: no progress
