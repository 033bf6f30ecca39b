"""What lora-lint prints cannot be steered by the file under lint or its name, cannot fail on characters the
terminal cannot encode, and a stdout that closes or fills up changes neither the exit code nor turns into an
internal error."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lora_lint.diagnostics import Diagnostic, FileReport, Position, Span
from lora_lint.report import full

REPO = Path(__file__).resolve().parents[2]
# ESC (CSI clear screen, OSC window title), BEL, a C1 CSI, a bidi override, a lone surrogate, a newline that
# would forge a concise line.
HOSTILE_VALUE = r"q_proj\e[2J\e]0;pwned\a\x9b\u202e\ud800\nx.yml:1:1: LL000 [forged] fake"
CONFIG = f'lora:\n  r: 8\n  target_modules: ["{HOSTILE_VALUE}"]\n  "lora_aplha\\e[31m": 3\n'
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def run_cli(*args, cwd: Path, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "NO_COLOR": "",
                   "PYTHONIOENCODING": "utf-8:strict", **(env or {})}
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run([sys.executable, "-m", "lora_lint", "check", *args], cwd=cwd, env=environment,
                          timeout=120, **streams)


@pytest.fixture
def hostile(tmp_path) -> Path:
    name = "evil\nevil.yml:9:9: LL000 [forged] injected\x1b[2J\x07.yml"
    (tmp_path / name).write_text(CONFIG, encoding="utf-8")
    (tmp_path / "plain.yml").write_text("lora:\n  r: 0\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("output_format", ["full", "concise", "github"])
def test_control_characters_are_escaped_in_text_formats(hostile, output_format):
    result = run_cli(".", "--output-format", output_format, cwd=hostile)
    assert result.returncode == 1, result.stderr
    text = result.stdout.decode("utf-8")  # strict: no surrogate reached the output
    assert not FORBIDDEN.search(text), repr(FORBIDDEN.search(text))
    assert "LL000" in text  # the forged text is shown as part of a value, escaped, not as a finding of its own
    assert r"\x1b[2J" in text and r"\x07" in text and r"\x9b" in text and r"\u202e" in text
    assert r"\ud800" in text
    if output_format == "concise":
        *lines, footer = text.splitlines()
        assert all(line.startswith(("plain.yml:", r"evil\nevil.yml:9:9: LL000 [forged] injected")) for line in lines)
        assert footer.startswith("Found ")
    if output_format == "github":
        assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in text.splitlines())


def test_concise_prints_one_line_per_finding(hostile):
    document = json.loads(run_cli(".", "--output-format", "json", cwd=hostile).stdout)
    findings = sum(len(entry["diagnostics"]) for entry in document["files"])
    *lines, footer = run_cli(".", "--output-format", "concise", cwd=hostile).stdout.decode("utf-8").splitlines()
    assert len(lines) == findings >= 4 and footer.startswith("Found ")


def test_json_and_sarif_stay_ascii_and_parse_strictly(hostile):
    for output_format in ("json", "sarif"):
        out = run_cli(".", "--output-format", output_format, cwd=hostile).stdout.decode("ascii")
        assert not re.search(r"\\ud[89a-f]", out, re.I)  # strict parsers reject lone surrogate escapes
        text = json.dumps(json.loads(out))
        assert "\\u001b[2J" in text and "\\ufffd" in text  # kept, escaped by JSON; the surrogate replaced


def test_full_snippet_carets_stay_under_the_escaped_span():
    line = 'x: "a\x1bb"  # the key is at column 1, the value at column 4'
    report = FileReport("f.yml", source_lines=[line])
    report.diagnostics.append(Diagnostic("LL101", "m", Span(Position(1, 4), Position(1, 9)), name="unknown-key"))
    text = full.render([report])
    snippet, carets = [row for row in text.splitlines() if row.startswith(("1 |", "  |"))][1:3]
    assert snippet == '1 | x: "a\\x1bb"  # the key is at column 1, the value at column 4'
    assert carets == "  |    " + "^" * len('"a\\x1bb"')


def test_color_output_keeps_only_its_own_styling():
    report = FileReport("f\x1b[2J.yml", source_lines=["k: \x1b[2J"])
    report.diagnostics.append(Diagnostic("LL101", "unknown key `\x1b]0;t\x07`", Span.point(1, 1), name="unknown-key"))
    text = full.render([report], color=True)
    assert "\x1b[" in text  # styled
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", text) and "\x07" not in text  # by its own SGR codes only


def test_non_utf8_file_name_with_a_strict_stdout(tmp_path):
    name = os.fsdecode(b"r\xe9glages.yml")  # a Latin-1 name: a lone surrogate in Python's str
    (tmp_path / name).write_text("lora:\n  r: 0\n", encoding="utf-8")
    for output_format in ("full", "concise", "github", "json", "sarif"):
        result = run_cli(".", "--output-format", output_format, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
        text = result.stdout.decode("utf-8")
        if output_format in ("full", "concise", "github"):
            assert r"r\xe9glages.yml" in text


def test_ascii_only_terminal_gets_escapes_not_a_crash(tmp_path):
    (tmp_path / "café.yml").write_text("lora:\n  r: 0\n  lora_aplha: 1\n", encoding="utf-8")
    result = run_cli("café.yml", cwd=tmp_path, env={"PYTHONIOENCODING": "ascii:strict"})
    assert result.returncode == 1, result.stderr
    assert b"caf\\xe9.yml" in result.stdout and result.stderr == b""


# -- stdout that closes or fills up ------------------------------------------------------------------------------


def many_findings(tmp_path: Path, files: int = 40) -> Path:
    for index in range(files):
        (tmp_path / f"c{index:02}.yml").write_text("lora:\n  r: 0\n" + "".join(
            f"  unknown_{key}: 1\n" for key in range(50)))
    return tmp_path


def test_stdout_closed_early_keeps_the_exit_code(tmp_path):
    """`lora-lint check . | head -1`: the reader goes away; the run still exits 1 and prints no traceback."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "lora_lint", "check", ".", "--output-format", "concise"],
                               cwd=many_findings(tmp_path), env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 1
    assert first.startswith(b"c00.yml:") and stderr == b""


def test_full_stdout_is_not_an_internal_error(tmp_path):
    with open("/dev/full", "w") as device:
        result = run_cli(".", cwd=many_findings(tmp_path, 2), stdout=device)
    assert result.returncode == 1
    assert result.stderr.decode() == "lora-lint: could not write to stdout: No space left on device\n"


def test_other_commands_on_a_full_stdout_exit_2_without_an_internal_error(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    with open("/dev/full", "w") as device:
        result = subprocess.run([sys.executable, "-m", "lora_lint", "explain", "LL101"], env=environment,
                                stdout=device, stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 2
    assert result.stderr.decode() == "lora-lint: could not write to stdout: No space left on device\n"


def test_closed_stdout_is_not_an_internal_error(tmp_path):
    many_findings(tmp_path, 1)
    code = "import os, subprocess, sys; os.close(1); sys.exit(subprocess.call(sys.argv[1:], stdout=None))"
    environment = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "lora_lint", "check", "."],
                            cwd=tmp_path, env=environment, stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 1
    assert result.stderr.decode() == "lora-lint: stdout is closed\n"


def test_usage_errors_escape_what_they_quote(tmp_path):
    (tmp_path / ".lora-lint.toml").write_text('peft-version = "1\\u001b[2J"\n')
    (tmp_path / "c.yml").write_text("lora:\n  r: 8\n")
    result = run_cli("c.yml", cwd=tmp_path)
    assert result.returncode == 2
    assert b"\x1b" not in result.stderr and b"`1\\x1b[2J` is not a version number" in result.stderr
