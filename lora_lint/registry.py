"""The one registry of rules: metadata and documentation from `rules/*.md`, checks from `lora_lint/rules/`.

The Markdown documentation is the single source for a rule's name, default severity and summary, for
`lora-lint explain`, for SARIF rule metadata and for the README's rule table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lora_lint.diagnostics import Severity

_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_CODE_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    body: str  # the Markdown documentation after the front matter
    needs_model: bool

    def section(self, title: str) -> str:
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", self.body, re.S | re.M)
        return match.group(1).strip() if match else ""

    def example(self, title: str) -> tuple[str, str]:
        """The first code block of a section: (language, text)."""
        block = _CODE_BLOCK.search(self.section(title))
        return (block.group(1), block.group(2)) if block else ("", "")

    @property
    def bad_example(self) -> tuple[str, str]:
        return self.example("Example")

    @property
    def good_example(self) -> tuple[str, str]:
        return self.example("Use instead")


def docs_dir() -> Path:
    # An installed wheel carries the docs inside the package; a source checkout has them at the top level.
    packaged = Path(__file__).parent / "rule_docs"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "rules"


def _parse_doc(path: Path) -> Rule:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise ValueError(f"{path}: rule documentation must start with a --- front matter block")
    meta = dict(line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    meta = {key.strip(): value.strip().strip("'\"") for key, value in meta.items()}
    return Rule(
        code=meta["code"],
        name=meta["name"],
        severity=Severity(meta["severity"]),
        summary=meta["summary"],
        body=text[match.end():].strip() + "\n",
        needs_model=meta.get("needs_model", "no") == "yes",
    )


@lru_cache(maxsize=1)
def all_rules() -> dict[str, Rule]:
    rules = [_parse_doc(path) for path in sorted(docs_dir().glob("LL*.md"))]
    return {rule.code: rule for rule in rules}


class UnknownRuleError(ValueError):
    pass


def find_rule(code_or_name: str) -> Rule:
    rules = all_rules()
    wanted = code_or_name.strip()
    if wanted.upper() in rules:
        return rules[wanted.upper()]
    for rule in rules.values():
        if rule.name == wanted.lower():
            return rule
    raise UnknownRuleError(f"unknown rule `{code_or_name}`; `lora-lint rules` lists them")


def expand_selector(selector: str) -> set[str]:
    """Codes named by a selector: a code (`LL101`), a name (`unknown-key`), a prefix (`LL1`) or `ALL`."""
    rules = all_rules()
    wanted = selector.strip()
    if wanted.upper() == "ALL":
        return set(rules)
    if re.fullmatch(r"(?i)LL\d{0,3}", wanted):
        codes = {code for code in rules if code.startswith(wanted.upper())}
        if codes:
            return codes
    return {find_rule(wanted).code}
