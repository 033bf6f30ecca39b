"""The axolotl and LLaMA-Factory examples in the trainer rules' docs ("In an axolotl file, ...") do what the docs
say."""

import re

import pytest

from lora_lint.registry import all_rules


@pytest.mark.parametrize("code", ["LL131", "LL134", "LL135"])
def test_axolotl_example_is_reported(code, lint, write):
    section = all_rules()[code].section("What it does")
    example = re.search(r"In an axolotl file.*?```yaml\n(.*?)```", section, re.S).group(1)
    result = lint("check", write("axolotl.yml", example), "--offline", "--output-format", "json")
    assert code in result.codes(), result.out


@pytest.mark.parametrize("code", ["LL130", "LL135"])
def test_llamafactory_example_is_reported(code, lint, write):
    section = all_rules()[code].section("What it does")
    example = re.search(r"In a LLaMA-Factory file.*?```yaml\n(.*?)```", section, re.S).group(1)
    result = lint("check", write("llamafactory.yaml", example), "--offline", "--output-format", "json")
    assert result.json["files"][0]["dialect"] == "llamafactory"
    assert code in result.codes(), result.out
