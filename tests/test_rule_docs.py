"""Every rule's documentation is complete, and its bad and good examples do what the docs say."""

import ast
import re
import shlex
from pathlib import Path

import pytest

from lora_lint.registry import all_rules, rule_table
from lora_lint.rules import load_checks

RULES = list(all_rules().values())
README = Path(__file__).parent.parent / "README.md"
SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


def _example_file(write, rule, which):
    language, text = rule.bad_example if which == "bad" else rule.good_example
    if language == "bytes":
        return write(f"{which}.yaml", ast.literal_eval(text.strip()))
    return write(f"{which}.{'json' if language == 'json' else 'yaml'}", text)


def _example_args(rule):
    return shlex.split(rule.example_args)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.code}-{r.name}")
def test_doc_has_every_section(rule):
    for title in SECTIONS:
        assert rule.section(title), f"{rule.code} lacks '## {title}'"
    assert rule.bad_example[1].strip() and rule.good_example[1].strip()
    assert re.fullmatch(r"LL\d{3}", rule.code) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.code}-{r.name}")
def test_bad_example_is_reported(rule, lint, write):
    if not rule.example_runs:
        pytest.skip(f"{rule.code}'s example is a report: no config reproduces it (tests/security checks it)")
    path = _example_file(write, rule, "bad")
    result = lint("check", path, "--output-format", "json", *_example_args(rule))
    assert rule.code in result.codes(), result.out


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.code}-{r.name}")
def test_good_example_is_clean(rule, lint, write):
    if not rule.example_runs:
        pytest.skip(f"{rule.code}'s example is a report: no config reproduces it (tests/security checks it)")
    path = _example_file(write, rule, "good")
    result = lint("check", path, "--output-format", "json", *_example_args(rule))
    assert result.codes() == [], result.out
    assert result.code == 0


def test_every_check_has_docs_and_names_are_unique():
    checks = load_checks()
    assert set(checks) <= set(all_rules()), set(checks) - set(all_rules())
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))


def test_readme_rule_table_is_generated_from_the_docs():
    readme = README.read_text()
    assert rule_table() in readme, "README's rule table is stale: run python scripts/update_readme.py"
    for rule in RULES:
        assert f"| {rule.code} | `{rule.name}` |" in readme


def test_explain_prints_the_docs(lint):
    result = lint("explain", "unknown-key")
    assert result.code == 0
    assert "LL101 unknown-key" in result.out and "## Use instead" in result.out
    assert lint("explain", "LL101").out == result.out


def test_explain_unknown_rule_exits_2(lint):
    result = lint("explain", "LL999")
    assert result.code == 2
    assert "unknown rule" in result.err


def test_rules_lists_every_rule(lint):
    result = lint("rules")
    assert result.code == 0
    lines = result.out.splitlines()
    assert len(lines) == len(RULES)
    assert lines[0].split()[:3] == [RULES[0].code, RULES[0].name, RULES[0].severity.value]
