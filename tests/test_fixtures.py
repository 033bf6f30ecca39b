"""Realistic fixture configs under fixtures/, each checked against the diagnostics listed in fixtures/expected.toml.

Each entry is a list of "CODE@LINE" strings. All rules run, with the Hugging Face Hub offline and an empty Hugging
Face cache, so base models resolve from the bundled catalogue alone and the model-aware findings do not depend on
the machine.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from lora_lint.cli import main
from lora_lint.registry import all_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECTED_FILE = FIXTURES / "expected.toml"
NOT_FIXTURES = {"expected.toml", "README.md", "README"}


def _load_expected() -> dict[str, list[str]]:
    with EXPECTED_FILE.open("rb") as handle:
        return tomllib.load(handle)


EXPECTED = _load_expected()


def _fixture_files() -> set[str]:
    return {
        path.relative_to(FIXTURES).as_posix()
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.name not in NOT_FIXTURES
    }


def test_expected_entries_are_well_formed():
    codes = set(all_rules())
    for name, expected in EXPECTED.items():
        assert isinstance(expected, list), f"{name}: expectation must be a list"
        for entry in expected:
            code, _, line = entry.partition("@")
            assert code in codes, f"{name}: unknown rule code in {entry!r}"
            assert line.isdigit() and int(line) >= 1, f"{name}: bad line in {entry!r}"


def test_every_fixture_has_an_expectation():
    files = _fixture_files()
    missing = sorted(files - set(EXPECTED))
    stale = sorted(set(EXPECTED) - files)
    assert not missing, f"fixtures without an entry in expected.toml: {missing}"
    assert not stale, f"entries in expected.toml without a fixture file: {stale}"


def test_every_config_rule_is_covered():
    covered = {entry.partition("@")[0] for expected in EXPECTED.values() for entry in expected}
    config_rules = {code for code, rule in all_rules().items()
                    if code.startswith(("LL0", "LL1")) and rule.example_runs}  # not internal-error: no config has it
    assert not config_rules - covered, f"rules no fixture triggers: {sorted(config_rules - covered)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture(name, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    path = FIXTURES / name
    exit_code = main(["check", str(path), "--output-format", "json"])
    captured = capsys.readouterr()
    document = json.loads(captured.out)

    assert [entry["path"] for entry in document["files"]] == [path.as_posix()], captured.err
    diagnostics = document["files"][0]["diagnostics"]
    got = Counter(f"{d['code']}@{d['line']}" for d in diagnostics)
    expected = EXPECTED[name]
    details = "\n".join(f"  {d['code']}@{d['line']}:{d['column']} {d['message']}" for d in diagnostics)
    assert got == Counter(expected), f"{name}: expected {sorted(expected)}, got:\n{details}"

    rules = all_rules()
    any_error = any(rules[entry.partition("@")[0]].severity.value == "error" for entry in expected)
    assert exit_code == (1 if any_error else 0), captured.err


def test_real_peft_builds_what_the_matcher_predicts_for_every_fixture(capsys, monkeypatch, tmp_path):
    """--peft-dry-run runs the installed PEFT on each fixture's skeleton; any disagreement with the matcher is an
    internal error (LL009 on that file)."""
    pytest.importorskip("peft")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    exit_code = main(["check", str(FIXTURES), "--peft-dry-run", "--output-format", "json"])
    captured = capsys.readouterr()
    assert exit_code == 1, captured.err  # findings, not an internal error
    assert captured.err == ""
    files = json.loads(captured.out)["files"]
    assert [d["message"] for entry in files for d in entry["diagnostics"] if d["code"] == "LL009"] == []
    replayed = [entry for entry in files if entry.get("peft_version")]
    assert len(replayed) >= 30
