"""Every fixable rule's documented bad example, fixed, becomes its good example (or lints clean); fixing again
changes nothing; and the docs declare exactly the kinds of fix the rule offers."""

import ast
import shlex

import pytest

from lora_lint.registry import all_rules

RULES = list(all_rules().values())
FIXABLE = [rule for rule in RULES if rule.fix]
# LL102's bad example also shows wrong types no fix can know the meaning of (`fan_in_fan_out: "yes"` on a model
# that wants false, `layers_to_transform: [a, 2]`): those findings are left for the user.
LEFT_FOR_THE_USER = {"LL102": ['`fan_in_fan_out` must be true or false, got the string "yes"',
                               '`layers_to_transform` must be a list of integers or an integer or null, '
                               'got the string "a"']}


def _write_example(write, rule, which):
    language, text = rule.bad_example if which == "bad" else rule.good_example
    if language == "bytes":
        return write(f"{which}.yaml", ast.literal_eval(text.strip()))
    return write(f"{which}.{'json' if language == 'json' else 'yaml'}", text)


def _fix_flags(rule):
    return ["--unsafe-fixes"] if "unsafe" in rule.fix else ["--fix"]


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: f"{r.code}-{r.name}")
def test_bad_example_fixed_is_the_good_one_and_fixing_again_changes_nothing(rule, lint, write):
    args = shlex.split(rule.example_args)
    bad = _write_example(write, rule, "bad")
    before = lint("check", bad, "--output-format", "json", *args)
    assert rule.code in before.codes()
    fixed = lint("check", bad, "--output-format", "json", *_fix_flags(rule), *args)
    text = bad.read_text(encoding="utf-8")
    good = rule.good_example[1]
    left = [d["message"] for d in fixed.json["files"][0]["diagnostics"]]
    if rule.code in LEFT_FOR_THE_USER:
        assert left == LEFT_FOR_THE_USER[rule.code]
        assert all(d["fix"] is None for d in fixed.json["files"][0]["diagnostics"])
    else:
        assert text == good or left == [], (text, left)
        assert fixed.code == 0
    again = lint("check", bad, "--diff", *_fix_flags(rule)[-1:], *args)
    assert (again.code, again.out) == (0, "")
    assert bad.read_text(encoding="utf-8") == text


# The dry-run and training-step rules' examples build the model with torch (tests/test_rule_docs.py runs them); they
# report, never fix.
WITHOUT_TORCH = [rule for rule in RULES if not {"--peft-dry-run", "--train-step"} & set(shlex.split(rule.example_args))]


@pytest.mark.parametrize("rule", WITHOUT_TORCH, ids=lambda r: f"{r.code}-{r.name}")
def test_docs_declare_the_fixes_the_bad_example_gets(rule, lint, write):
    result = lint("check", _write_example(write, rule, "bad"), "--output-format", "json",
                  *shlex.split(rule.example_args))
    kinds = {d["fix"]["applicability"] for d in result.json["files"][0]["diagnostics"]
             if d["code"] == rule.code and d["fix"]}
    declared = {kind.strip() for kind in rule.fix.split(",") if kind.strip()}
    assert kinds <= declared and bool(kinds) == bool(declared), (kinds, rule.fix)
    if declared:
        assert "Fix" in rule.section("What it does"), "say in the docs what the fix writes"


def test_good_example_lints_without_fixes_offered(lint, write):
    for rule in FIXABLE:
        result = lint("check", _write_example(write, rule, "good"), "--diff", "--unsafe-fixes",
                      *shlex.split(rule.example_args))
        assert (result.code, result.out) == (0, ""), rule.code
