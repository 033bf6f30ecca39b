"""The composite GitHub Action (action.yml): its shell steps run for real against configs, with its defaults."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent
ACTION = YAML(typ="safe").load(REPO / "action.yml")
BAD = "lora:\n  r: 0\n  target_modules: [q_proj]\n"


def expand(text: str, inputs: dict) -> str:
    """GitHub's `${{ inputs.x }}` / `${{ github.action_path }}` expressions, as the runner substitutes them."""
    values = {**{f"inputs.{k}": v for k, v in inputs.items()}, "github.action_path": str(REPO)}
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m.group(1)], text)


def run_step(name: str, inputs: dict, cwd: Path) -> subprocess.CompletedProcess:
    [step] = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    assert step["shell"] == "bash"
    env = {**os.environ, **{k: expand(str(v), inputs) for k, v in step.get("env", {}).items()}}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # where lora-lint is installed
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def inputs():
    return {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}


def test_action_is_composite_and_its_steps_are_well_formed(inputs):
    assert ACTION["runs"]["using"] == "composite"
    referenced = set()
    for step in ACTION["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], "inputs reach scripts through env, never spliced into them"
        referenced |= set(re.findall(r"inputs\.([\w-]+)", json.dumps(step)))
    assert referenced <= set(inputs)
    uploads = [s for s in ACTION["runs"]["steps"] if "upload-sarif" in s.get("uses", "")]
    assert uploads and uploads[0]["if"] == "inputs.sarif == 'true'"


def test_lint_step_annotates_and_fails_the_job(tmp_path, inputs):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "bad.yml").write_text(BAD)
    result = run_step("Lint", inputs, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("::error file=configs/bad.yml,line=2,col=6,")
    clean = run_step("Lint", {**inputs, "args": "configs --ignore out-of-range"}, tmp_path)
    assert clean.returncode == 0 and clean.stdout == ""


def test_sarif_step_writes_sarif_without_failing(tmp_path, inputs):
    (tmp_path / "my configs").mkdir()
    (tmp_path / "my configs" / "bad.yml").write_text(BAD)
    result = run_step("Write SARIF", {**inputs, "sarif": "true"}, tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / inputs["sarif-file"]).read_text())
    [location] = document["runs"][0]["results"][0]["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "my%20configs/bad.yml"
