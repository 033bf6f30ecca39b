"""lora-lint's reading of toolkit files against the real toolkit (llm-toolkit 0.2.3, its own config code).

For every generated file (a fragment, `lora:` perhaps with `model:`, is judged by the toolkit's schema classes of
those sections, as lora-lint reads it): the toolkit accepts it exactly when lora-lint's llmtune trainer does; when it accepts,
lora-lint has the same runs, in the same order, with the same kwargs reaching `LoraConfig` (types included);
when it rejects, lora-lint stops on the same exception, in the same run, and a ValidationError names the same
fields. And the user sees it: lora-lint reports an error from the trainer rules exactly on the rejected files.

LORA_LINT_TOOLKIT_EXAMPLES sets the number of files (default 2,000, about 30 s on two cores); e.g.
    LORA_LINT_TOOLKIT_EXAMPLES=50000 pytest tests/trainers -q
"""

from __future__ import annotations

import math
import os

import pytest

pytest.importorskip("llmtune.pydantic_models.config_model", reason="pip install --no-deps llm-toolkit==0.2.3")

from lora_lint.source import parse_text  # noqa: E402
from lora_lint.trainers import TRAINER_RULES, detect  # noqa: E402

from . import toolkit_oracle as oracle  # noqa: E402
from .conftest import TOOLKIT_CASES  # noqa: E402
from .generate import generate  # noqa: E402

EXAMPLES = int(os.environ.get("LORA_LINT_TOOLKIT_EXAMPLES", "2000"))
BATCHES = 10


def canonical(value):
    """Equal means equal with types: 32 is not 32.0 is not True."""
    if isinstance(value, dict):
        return {key: canonical(v) for key, v in value.items()}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def compare(text: str) -> list[str]:
    """What differs between the toolkit and lora-lint on this file (empty: they agree)."""
    root = parse_text("config.yml", text).root
    data = oracle.yaml.load(text, Loader=oracle._Loader)
    fragment = oracle.is_fragment(data)
    if fragment:
        expected = oracle.run_sections(data)
        reading = detect(root)
    else:
        expected = oracle.run_toolkit(text)
        reading = detect(root, "llmtune")
    TOOLKIT_CASES["fragment" if fragment else "whole file"] += 1
    TOOLKIT_CASES[f"toolkit accepts, {len(expected.runs)} run(s)" if expected.accepted
                  else f"toolkit stops: {expected.raises}"] += 1
    problems = []
    ours = reading.failure
    if expected.accepted != (ours is None):
        return [f"toolkit {'accepts' if expected.accepted else 'rejects (' + str(expected.raises) + ')'}, "
                f"lora-lint {'accepts' if ours is None else 'rejects: ' + ours.message}"]
    if expected.accepted:
        if len(reading.runs) != len(expected.runs):
            return [f"{len(expected.runs)} runs, lora-lint has {len(reading.runs)}"]
        TOOLKIT_CASES["runs whose LoraConfig kwargs were compared"] += len(expected.runs)
        for index, (view, kwargs) in enumerate(zip(reading.runs, expected.runs), start=1):
            if canonical(view.kwargs()) != canonical(kwargs):
                problems.append(f"run {index}: toolkit passes {kwargs}, lora-lint {view.kwargs()}")
        return problems
    if ours.raises != expected.raises:
        problems.append(f"toolkit raises {expected.raises}, lora-lint says {ours.raises}: {ours.message}")
    ours_run = ours.runs[0] if ours.runs else None
    if ours_run != expected.failing_run:
        problems.append(f"toolkit stops in run {expected.failing_run}, lora-lint in {ours_run}")
    if expected.raises == "ValidationError" and not problems:
        view = reading.runs[ours_run - 1] if ours_run else reading.runs[0]
        paths = {issue.path for issue in view.issues if issue.blocking and issue.raises == "ValidationError"}
        if paths != expected.paths:
            problems.append(f"toolkit names {sorted(map(str, expected.paths))}, lora-lint {sorted(map(str, paths))}")
    return problems


@pytest.mark.parametrize("batch", range(BATCHES))
def test_lora_lint_reads_toolkit_files_as_the_toolkit_does(batch):
    seeds = range(batch * EXAMPLES // BATCHES, (batch + 1) * EXAMPLES // BATCHES)
    failures = {}
    for seed in seeds:
        problems = compare(generate(seed))
        if problems:
            failures[seed] = problems
    assert not failures, "\n\n".join(f"seed {seed}:\n{generate(seed)}\n" + "\n".join(p) for seed, p in
                                     list(failures.items())[:5]) + f"\n({len(failures)} of {len(seeds)} differ)"


def test_the_user_sees_an_error_exactly_on_the_files_the_toolkit_rejects(lint, write):
    """The verdict as `lora-lint check` reports it: an error from a trainer rule exactly when the toolkit stops."""
    trainer_codes = set(TRAINER_RULES.values())
    disagree = []
    for seed in range(100):
        text = generate(seed)
        data = oracle.yaml.load(text, Loader=oracle._Loader)
        expected = oracle.run_sections(data) if oracle.is_fragment(data) else oracle.run_toolkit(text)
        result = lint("check", write(f"{seed}.yml", text), "--dialect", "llmtune", "--offline",
                      "--output-format", "json")
        errors = {d["code"] for d in result.json["files"][0]["diagnostics"] if d["severity"] == "error"}
        if bool(errors & trainer_codes) == expected.accepted:
            disagree.append((seed, expected.raises, sorted(errors)))
    assert not disagree, disagree
