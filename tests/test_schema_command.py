"""`lora-lint schema --dialect X`: a valid JSON Schema that agrees with the rules it is generated alongside."""

import json
from pathlib import Path

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

FIXTURES = Path(__file__).parent.parent / "fixtures"
# The rules whose findings the schema expresses: unknown keys, types, ranges, allowed values, version fields.
SCHEMA_RULES = {"LL101", "LL102", "LL103", "LL104", "LL111"}


@pytest.fixture(scope="module")
def schemas():
    from lora_lint.cli import main

    found = {}
    for dialect in ("axolotl", "llamafactory", "llmtune", "peft"):
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["schema", "--dialect", dialect]) == 0
        found[dialect] = json.loads(out.getvalue())
        jsonschema.Draft7Validator.check_schema(found[dialect])
    return found


def test_dialect_choices_come_from_the_registry(lint):
    from lora_lint.trainers import TRAINERS

    result = lint("schema", "--dialect", "nope")
    assert result.code == 2
    assert all(f"'{name}'" in result.err for name in TRAINERS)


def test_schema_follows_the_peft_version(schemas, lint):
    old = json.loads(lint("schema", "--dialect", "peft", "--peft-version", "0.8.2").out)
    assert "use_dora" in schemas["peft"]["properties"] and "use_dora" not in old["properties"]
    assert schemas["llmtune"]["properties"]["lora"]["properties"]["bias"]["enum"] == ["none", "all", "lora_only"]


def test_schema_agrees_with_the_rules_on_every_fixture(schemas, lint):
    """A fixture the schema rules pass validates; one they flag in its LoRA section does not."""
    checked = 0
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix not in (".yml", ".yaml", ".json") or path.parent.name == "hostile":
            continue  # the hostile fixtures are built to exhaust a loader like the one below
        text = path.read_bytes().decode("utf-8", errors="replace")
        if "lora-lint: ignore" in text:
            continue  # suppressed findings: the schema cannot know about comments
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        result = lint("check", path, "--output-format", "json", "--offline")
        [entry] = result.json["files"]
        dialect = entry["dialect"]
        if dialect is None or not isinstance(document, dict) or (document.get("ablation") or {}).get("use_ablate"):
            continue
        if dialect == "peft" and not set(document) & {"r", "lora_alpha", "target_modules", "peft_type"}:
            continue  # keys under a sub-mapping (lora_config: ...): the schema describes the flat layout
        if any(d["code"] == "LL133" for d in entry["diagnostics"]):
            continue  # values the toolkit's pydantic coerces (`r: "32"`): the schema's JSON types are strict
        flagged = {d["code"] for d in entry["diagnostics"]} & SCHEMA_RULES
        if dialect == "llmtune":  # what the toolkit itself rejects, drops or ignores in its `lora:` section counts too
            lora_lines = _section_lines(text, "lora")
            flagged |= {d["code"] for d in entry["diagnostics"]
                        if d["code"] in ("LL130", "LL134", "LL135") and d["line"] in lora_lines}
        valid = jsonschema.Draft7Validator(schemas[dialect]).is_valid(document)
        assert valid is not bool(flagged), (path, flagged)
        checked += 1
    assert checked >= 30


def _section_lines(text: str, key: str) -> range:
    """The 1-based lines the value of a top-level key spans."""
    for key_node, value_node in yaml.compose(text).value:
        if key_node.value == key:
            return range(value_node.start_mark.line + 1, value_node.end_mark.line + 2)
    return range(0)
