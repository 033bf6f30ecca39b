"""Rewrite the rule table in README.md from the rule documentation in rules/."""

import re
from pathlib import Path

from lora_lint.registry import RULE_TABLE_END, RULE_TABLE_START, rule_table

README = Path(__file__).resolve().parent.parent / "README.md"

text = README.read_text(encoding="utf-8")
pattern = re.compile(re.escape(RULE_TABLE_START) + ".*?" + re.escape(RULE_TABLE_END), re.S)
if not pattern.search(text):
    raise SystemExit(f"{README}: no rule table markers")
README.write_text(pattern.sub(lambda _: rule_table(), text), encoding="utf-8")
print(f"updated {README}")
