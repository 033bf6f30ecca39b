"""The real toolkit files of the corpus (../shared/real-configs/A): lora-lint reports an error from the trainer's
own rules (or a YAML syntax error) on exactly the files the installed toolkit rejects. A fragment (a file holding
only `lora:`, perhaps with `model:`) is judged as the toolkit's schema judges those sections, which is how
lora-lint reads it."""

from __future__ import annotations

import pytest

pytest.importorskip("llmtune.pydantic_models.config_model", reason="pip install --no-deps llm-toolkit==0.2.3")

from lora_lint.source import parse_text  # noqa: E402
from lora_lint.trainers import TRAINER_RULES, detect  # noqa: E402

from . import toolkit_oracle as oracle  # noqa: E402
from .conftest import TOOLKIT_CASES  # noqa: E402


def toolkit_verdict(text: str):
    """(rejected, why, the fields its ValidationError names) as the toolkit decides; bad YAML is a rejection too."""
    try:
        data = oracle.yaml.safe_load(text)
    except oracle.yaml.YAMLError:
        return True, "invalid YAML", None
    if oracle.is_fragment(data):
        outcome = oracle.run_sections(data)
        why = "fragment: " + ("accepted" if outcome.accepted else str(outcome.raises))
    else:
        outcome = oracle.run_toolkit(text)
        why = "accepted" if outcome.accepted else str(outcome.raises)
    return not outcome.accepted, why, outcome.paths


def blocking_paths(text: str) -> set:
    reading = detect(parse_text("config.yml", text).root, "llmtune")
    view = reading.runs[(reading.failure.runs or (1,))[0] - 1]
    return {issue.path for issue in view.issues if issue.blocking and issue.raises == "ValidationError"}


def test_lora_lint_errors_on_exactly_the_real_files_the_toolkit_rejects(real_configs, lint):
    files = sorted((real_configs / "A").glob("*"))
    assert files
    codes = set(TRAINER_RULES.values()) | {"LL001"}
    disagree = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        rejected, why, paths = toolkit_verdict(text)
        result = lint("check", path, "--dialect", "llmtune", "--offline", "--output-format", "json")
        errors = {d["code"] for d in result.json["files"][0]["diagnostics"] if d["severity"] == "error"}
        TOOLKIT_CASES[f"real toolkit file: {why}"] += 1
        if bool(errors & codes) != rejected:
            disagree.append((path.name, why, sorted(errors)))
        elif why.endswith("ValidationError") and blocking_paths(text) != paths:  # and for the toolkit's reasons
            disagree.append((path.name, sorted(map(str, paths)), sorted(map(str, blocking_paths(text)))))
    assert not disagree, disagree
