"""A bug that fires on one file becomes an LL009 diagnostic on that file; every other file is still reported and
the run exits 1, in the sequential and the parallel (process pool) path alike."""

from __future__ import annotations

import json

import pytest

from lora_lint import checking, lint
from lora_lint.cli import main

GOOD = "lora:\n  r: 8\n  target_modules: [q_proj, v_proj]\n"
WARNS = "lora:\n  r: 8\n  target_modules: [q_proj, q_proj]\n"


@pytest.fixture
def buggy_parser(monkeypatch):
    """A parser that trips over any file whose name contains 'trigger', as a real bug would."""
    real = lint.parse_file

    def parse_file(path, data, *rest):
        if "trigger" in path:
            raise KeyError("a bug")
        return real(path, data, *rest)

    monkeypatch.setattr(lint, "parse_file", parse_file)


@pytest.mark.parametrize("files", [3, checking.PARALLEL_MIN_FILES + 4])
def test_one_crashing_file_does_not_sink_the_run(tmp_path, capsys, monkeypatch, buggy_parser, files):
    # The pool even when an earlier test imported torch: these configs' catalogued models need no tensor operation.
    monkeypatch.setattr(checking, "forkable", lambda: True)
    for index in range(files):
        (tmp_path / f"c{index:02}.yml").write_text(WARNS if index else GOOD)
    (tmp_path / "c01-trigger.yml").write_text(GOOD)
    code = main(["check", str(tmp_path), "--output-format", "json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 1 and captured.err == ""
    assert len(document["files"]) == files + 1
    by_name = {entry["path"].rsplit("/", 1)[-1]: entry for entry in document["files"]}
    [crash] = by_name["c01-trigger.yml"]["diagnostics"]
    assert (crash["code"], crash["name"], crash["severity"]) == ("LL009", "internal-error", "error")
    assert crash["message"].startswith("lora-lint failed on this file: KeyError: 'a bug' (at lora_lint/")
    assert "please report it" in crash["help"]
    assert [d["code"] for d in by_name["c02.yml"]["diagnostics"]] == ["LL109"]
    assert by_name["c00.yml"]["diagnostics"] == []


def test_internal_errors_are_not_hidden_by_rule_selection(tmp_path, capsys, buggy_parser):
    (tmp_path / "trigger.yml").write_text(GOOD)
    code = main(["check", str(tmp_path / "trigger.yml"), "--select", "LL109", "--output-format", "concise"])
    out = capsys.readouterr().out
    assert code == 1
    assert "LL009 [internal-error] lora-lint failed on this file: KeyError" in out


def test_full_report_names_the_file(tmp_path, capsys, buggy_parser):
    (tmp_path / "trigger.yml").write_text(GOOD)
    assert main(["check", str(tmp_path / "trigger.yml")]) == 1
    out = capsys.readouterr().out
    assert f" --> {(tmp_path / 'trigger.yml').as_posix()}:1:1" in out and "Found 1 error" in out


def test_usage_and_settings_errors_still_exit_2(tmp_path, capsys):
    (tmp_path / ".lora-lint.toml").write_text('select = ["LL999"]\n')
    (tmp_path / "a.yml").write_text(GOOD)
    assert main(["check", str(tmp_path / "a.yml")]) == 2
    assert "LL999" in capsys.readouterr().err
